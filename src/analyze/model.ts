/**
 * What analysis produces. The inspect JSON contract (DESIGN.md) is a projection of this
 * (src/report/json.ts); the text report, the ladder and the labs' expectations read the richer
 * fields. Renderers never compute facts: everything they print is here.
 */
import type { CaptureFormat, ReadFault } from '../capture/record.js';
import type { TcpState } from '../tcp-state.js';
import type { ConnStart } from './tcp-states.js';

export type { TcpState } from '../tcp-state.js';

export type Side = 'client' | 'server';
export type CloseKind = 'four-way' | 'three-way' | 'simultaneous' | 'reset' | 'none';

/** One analysis mark on a segment, as Wireshark's tcp.analysis.* names them. */
export type SegmentMark =
  | 'retransmission'
  | 'spurious-retransmission'
  | 'fast-retransmission'
  | 'dup-ack'
  | 'zero-window'
  | 'zero-window-probe'
  | 'window-update'
  | 'out-of-order'
  | 'previous-segment-not-captured'
  | 'ack-of-unseen-segment'
  | 'keep-alive'
  | 'rst-after-close-with-unread-data'
  | 'rst-from-closed-port';

export interface OptionSummary {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamps?: [number, number]; // [TSval, TSecr]
  sack?: [number, number][]; // relative edges
  tfo?: string; // cookie hex, '' for a cookie request
  unknown?: { kind: number; hex: string }[];
  /** An option with a wrong length ("TCP option kind 8 at byte 54: timestamps length 8 (!= 10)"): the options after it are not read. */
  malformed?: string;
}

/**
 * With keepSegments false (inspect --json) only the state names are kept: time is NaN, packet
 * null and cause '' (the tracker stores a side's path as packed state codes, not records).
 */
export interface StateTransition {
  from: TcpState;
  to: TcpState;
  time: number; // seconds since the capture's first packet
  packet: number | null; // the packet index that caused it (null: inferred, e.g. LISTEN)
  cause: string; // "sent SYN", "received FIN", ...
}

export interface SegmentRecord {
  packet: number; // index in the capture
  time: number; // seconds since the capture's first packet
  absTime: number; // epoch seconds (float) to join with observations
  from: Side;
  flags: number; // bit set, see src/decode/packet.ts
  seq: number; // absolute
  ack: number;
  relSeq: number; // relative to the sender's ISN (as Wireshark shows)
  relAck: number; // relative to the peer's ISN; 0 when ACK not set
  len: number; // payload bytes
  window: number; // raw field
  options: OptionSummary;
  marks: SegmentMark[];
  meaning: string; // plain words: "SYN: the client opens, ISN 3626544836; client → SYN_SENT"
  transitions: { side: Side; from: TcpState; to: TcpState }[];
}

export interface HandshakeFacts {
  complete: boolean;
  clientIsn: number | null;
  serverIsn: number | null;
  synRetransmits: number;
  synAckRetransmits: number;
  rttMs: number | null; // SYN -> SYN-ACK -> ACK: first SYN-ACK to the ACK that completes it, + SYN to SYN-ACK
  synTimes: number[]; // times of every SYN sent (first and retransmissions)
  synAckTimes: number[];
  clientOptions: OptionSummary; // from the SYN
  serverOptions: OptionSummary; // from the SYN-ACK
  dataInThirdSegment: boolean;
  dataInSyn: boolean; // TFO
}

export interface CloseFacts {
  kind: CloseKind;
  initiator: Side | null;
  finTimes: { client: number[]; server: number[] };
  lastAckTime: number | null;
}

/** One step of the handshake or the close: the packet (1-based, as inspect prints it) and what it carried. */
export interface TcpStep {
  packet: number;
  t: number; // seconds since the capture's first packet
  seq: number; // absolute
  ack: number; // absolute (0 when the segment had no ACK flag: a SYN)
  side: Side; // the sender
}

/**
 * The packets of the handshake and of the close, null when the capture has none:
 * - syn: the client's first SYN; synAck: the server's first SYN-ACK; ack: the client's segment
 *   that acknowledged the SYN-ACK and completed the handshake;
 * - firstFin: the first FIN (of the close initiator); firstFinAck: the first segment of the other
 *   side that acknowledged it (the second FIN itself in a three-way close); secondFin: the other
 *   side's first FIN; lastAck: the initiator's segment that acknowledged the second FIN.
 * In a simultaneous close the second FIN does not acknowledge the first, so firstFinAck may come
 * after lastAck. Retransmitted copies are in retransmissionList, not here.
 */
export interface TcpSteps {
  syn: TcpStep | null;
  synAck: TcpStep | null;
  ack: TcpStep | null;
  firstFin: TcpStep | null;
  firstFinAck: TcpStep | null;
  secondFin: TcpStep | null;
  lastAck: TcpStep | null;
}

/** A segment tshark marks tcp.analysis.retransmission (fast and spurious ones included). */
export interface RetransmissionEvent {
  packet: number;
  t: number;
  side: Side;
  kind: 'retransmission' | 'fast-retransmission' | 'spurious-retransmission';
}

/** A RST and what caused it, as far as the packets tell. */
export interface ResetEvent {
  packet: number;
  t: number;
  side: Side;
  /** closed-port: answers a SYN nobody listened for; unread-data: sent with data unread (close() or SO_LINGER 0). */
  cause: 'closed-port' | 'unread-data' | 'other';
}

export interface TcpConnection {
  id: number; // 0-based, in order of first packet (as tcp.stream)
  family: 4 | 6;
  client: string; // "ip:port" ("[v6]:port" for IPv6)
  server: string;
  clientAddr: string;
  clientPort: number;
  serverAddr: string;
  serverPort: number;
  firstTime: number;
  lastTime: number;
  packets: number;
  bytes: { client: number; server: number }; // payload bytes each side sent
  handshake: HandshakeFacts;
  close: CloseFacts;
  timeWait: Side | 'both' | null;
  retransmissions: number;
  resets: number;
  dupAcks: number;
  zeroWindows: number;
  zeroWindowProbes: number; // 1-byte probes into a zero window (tcp.analysis.zero_window_probe)
  outOfOrder: number;
  lostSegments: number; // previous segment not captured
  /** The encapsulations its segments came in (VLAN, PPPoE, tunnels: decode/packet.ts encapNames), outermost kinds first; [] for none. */
  encapsulation: readonly string[];
  /**
   * Where the capture picked it up: 'syn' (every state seen), 'syn-ack' (the client's SYN_SENT
   * assumed: the SYN-ACK proves it), 'mid-stream' (both sides' ESTABLISHED assumed, not seen,
   * unless its first segment was a RST). Assumed states start the state paths, with no transition.
   */
  start: ConnStart;
  steps: TcpSteps;
  retransmissionList: RetransmissionEvent[];
  resetList: ResetEvent[];
  /** The transitions of each side (time, packet, cause filled only when segments are kept). */
  states: { client: StateTransition[]; server: StateTransition[] };
  /** The states each side went through, in order; a side that never changed: [its state]. */
  statePath: { client: TcpState[]; server: TcpState[] };
  segments: SegmentRecord[]; // empty unless segments are kept
}

export interface UdpFlow {
  id: number;
  family: 4 | 6;
  src: string;
  dst: string;
  firstTime: number;
  lastTime: number;
  datagrams: number; // whole datagrams seen (a fragmented one counts once, when its first fragment is seen)
  bytes: number; // UDP payload bytes
  fragmented: number; // datagrams that came in fragments
  incomplete: number; // fragmented datagrams whose fragments did not all arrive
  sizes: { min: number; max: number };
}

export interface IcmpEvent {
  packet: number;
  time: number;
  family: 4 | 6;
  from: string;
  to: string;
  kind: 'port-unreachable' | 'frag-needed' | 'packet-too-big' | 'reassembly-time-exceeded' | 'ttl-exceeded' | 'other';
  type: number;
  code: number;
  mtu: number | null;
  quoted: string | null; // "udp 10.0.0.1:5000 > 10.0.0.2:6000 id 1234"
}

/**
 * Analyzer.finish() builds `tcp` on first access when segments were not kept; to walk the
 * connections without holding them all, use tcpConnections(analysis) (src/analyze/analyzer.ts).
 */
export interface Analysis {
  file: string;
  format: CaptureFormat | null;
  linkType: number;
  packets: number;
  decodeErrors: number;
  truncated: number;
  firstTime: number | null; // absolute epoch seconds of packet 1
  faults: ReadFault[];
  errors: { packet: number; layer: string; message: string }[]; // first decode errors (capped)
  tcp: TcpConnection[];
  udp: UdpFlow[];
  icmp: IcmpEvent[];
}
