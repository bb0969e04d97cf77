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
import bigDatagram from './udp/big-datagram.js';
import mtuFragments from './udp/mtu-fragments.js';
import wanLoss from './udp/wan-loss.js';

export const labs: AnyLab[] = [handshake, thirdSegmentData, isn, staleSyn, queues, lostThirdAck, synFlood, fourWayClose, bigDatagram, wanLoss, mtuFragments];

assertLabsValid(labs, new Set(CLAIMS.map((c) => c.id)));
