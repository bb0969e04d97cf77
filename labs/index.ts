/**
 * The lab catalogue, by topic folder. The runner takes labs from here; it never checks a name.
 * Every lab is checked against the claim catalogue (labs/claims.ts) when this module loads.
 */
import { assertLabsValid } from '../src/lab/catalogue.js';
import type { AnyLab } from '../src/lab/types.js';
import { CLAIMS } from './claims.js';
import fourWayClose from './tcp/close/four-way-close.js';
import handshake from './tcp/open/handshake.js';
import isn from './tcp/open/isn.js';
import lostThirdAck from './tcp/open/lost-third-ack.js';
import queues from './tcp/open/queues.js';
import staleSyn from './tcp/open/stale-syn.js';
import synFlood from './tcp/open/syn-flood.js';
import thirdSegmentData from './tcp/open/third-segment-data.js';
import udpRate from './udp/rate.js';
import udpRcvbuf from './udp/rcvbuf.js';
import udpSenderSide from './udp/sender-side.js';
import udpSlowReader from './udp/slow-reader.js';

export const labs: AnyLab[] = [handshake, thirdSegmentData, isn, staleSyn, queues, lostThirdAck, synFlood, fourWayClose];
// The UDP labs (udp1: U01, U03, U04, U06).
labs.push(udpSlowReader, udpRcvbuf, udpRate, udpSenderSide);

assertLabsValid(labs, new Set(CLAIMS.map((c) => c.id)));
