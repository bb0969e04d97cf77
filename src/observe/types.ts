/** Socket states and kernel counters sampled inside a lab namespace, on the packet timeline. */

export type SocketProto = 'tcp' | 'tcp6' | 'udp' | 'udp6';

export interface SocketEntry {
  proto: SocketProto;
  local: string; // "ip:port" / "[v6]:port"
  remote: string;
  state: string; // RFC names with underscores: ESTABLISHED, SYN_SENT, SYN_RECV, TIME_WAIT, LISTEN, ... ('UNCONN' for an unconnected UDP socket: kernel state 07 CLOSE)
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
