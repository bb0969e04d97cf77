/**
 * The lab catalogue, by topic folder. The runner takes labs from here; it never checks a name.
 * Every lab is checked against the claim catalogue (labs/claims.ts) when this module loads.
 */
import { assertLabsValid } from '../src/lab/catalogue.js';
import type { AnyLab } from '../src/lab/types.js';
import { CLAIMS } from './claims.js';
import fourWayClose from './tcp/close/four-way-close.js';
import halfClose from './tcp/close/half-close.js';
import lostLastAck from './tcp/close/lost-last-ack.js';
import rst from './tcp/close/rst.js';
import serverFirstClose from './tcp/close/server-first-close.js';
import simultaneousClose from './tcp/close/simultaneous-close.js';
import threeSegmentClose from './tcp/close/three-segment-close.js';
import timeWait from './tcp/close/time-wait.js';
import checksum from './tcp/loss/checksum.js';
import duplicates from './tcp/loss/duplicates.js';
import reordering from './tcp/loss/reordering.js';
import retransmission from './tcp/loss/retransmission.js';
import segmentation from './tcp/loss/segmentation.js';
import window from './tcp/loss/window.js';
import handshake from './tcp/open/handshake.js';
import isn from './tcp/open/isn.js';
import lostThirdAck from './tcp/open/lost-third-ack.js';
import queues from './tcp/open/queues.js';
import staleSyn from './tcp/open/stale-syn.js';
import synFlood from './tcp/open/syn-flood.js';
import thirdSegmentData from './tcp/open/third-segment-data.js';
import bigDatagram from './udp/big-datagram.js';
import mtuFragments from './udp/mtu-fragments.js';
import udpRate from './udp/rate.js';
import udpRcvbuf from './udp/rcvbuf.js';
import udpSenderSide from './udp/sender-side.js';
import udpSlowReader from './udp/slow-reader.js';
import wanLoss from './udp/wan-loss.js';

export const labs: AnyLab[] = [
  // tcp/open
  handshake, thirdSegmentData, isn, staleSyn, queues, lostThirdAck, synFlood,
  // tcp/close
  fourWayClose, serverFirstClose, halfClose, threeSegmentClose, timeWait, lostLastAck, simultaneousClose, rst,
  // tcp/loss
  segmentation, retransmission, window, reordering, duplicates, checksum,
  // udp
  udpSlowReader, bigDatagram, udpRcvbuf, udpRate, wanLoss, udpSenderSide, mtuFragments,
];

assertLabsValid(labs, new Set(CLAIMS.map((c) => c.id)));
