/** Socket states and kernel counters sampled inside a lab namespace, on the packet timeline. */
import type { TcpState } from '../tcp-state.js';

export type SocketProto = 'tcp' | 'tcp6' | 'udp' | 'udp6';

export interface SocketEntry {
  proto: SocketProto;
  local: string; // "ip:port" / "[v6]:port"
  remote: string;
  /** The one TCP vocabulary (src/tcp-state.ts: SYN_RCVD, FIN_WAIT_1, ...); 'UNCONN' for an unconnected UDP socket (kernel state 07); STATE_n for a number the kernel never used. */
  state: TcpState | 'UNCONN' | `STATE_${number}`;
  timer: 'none' | 'retransmit' | 'keepalive' | 'time-wait' | 'zero-window-probe' | 'other';
  timerRemainingMs: number; // 0 when no timer
  retransmits: number;
  txQueue: number;
  rxQueue: number;
  drops: number; // UDP: per-socket drops column
  inode: number;
  uid: number;
}

export interface SocketSample {
  time: number; // epoch seconds (float), the same clock as pcap timestamps
  sockets: SocketEntry[];
}

export interface CounterSnapshot {
  time: number;
  values: Record<string, number>; // "Udp.RcvbufErrors", "TcpExt.ListenOverflows", "Ip.ReasmFails", ...
}

export interface Observation {
  samples: SocketSample[]; // consecutive identical samples are collapsed (the first of a run kept)
  before: CounterSnapshot;
  after: CounterSnapshot;
  delta: Record<string, number>; // only non-zero deltas
}
