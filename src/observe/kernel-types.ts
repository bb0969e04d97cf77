/** Kernel events (tracepoints through bpftrace), on the pcap's clock. */

export type KernelEventKind = 'state' | 'retransmit' | 'synack-retransmit' | 'reset-sent' | 'reset-received' | 'drop';

interface Base {
  /** epoch seconds on the pcap's clock (CLOCK_REALTIME), mapped from the kernel's time */
  time: number;
  /** the event's network namespace (its name, e.g. wirelab-123-ab12cd34-server) */
  netns: string;
}

/** A TCP socket changed state (`sock:inet_sock_set_state`). */
export interface StateEvent extends Base {
  kind: 'state';
  socket: string; // the kernel's socket address (hex): the same socket across events
  from: string; // kernel names: SYN_SENT, SYN_RECV, FIN_WAIT1, CLOSE, NEW_SYN_RECV ...
  to: string;
  local: string; // canonical "ip:port" / "[v6]:port"
  remote: string;
}

/** A data segment (or SYN, FIN) sent again (`tcp:tcp_retransmit_skb`). */
export interface RetransmitEvent extends Base {
  kind: 'retransmit';
  socket: string;
  state: string;
  local: string;
  remote: string;
  seq: number | null; // the retransmitted segment's first sequence number (absolute); null when the kernel's BTF did not say where it lives
  err: number; // 0: sent; otherwise the -errno the transmit returned
}

/** A SYN-ACK sent again by a listener for a half-open connection (`tcp:tcp_retransmit_synack`). */
export interface SynAckRetransmitEvent extends Base {
  kind: 'synack-retransmit';
  local: string;
  remote: string;
}

export interface ResetEvent extends Base {
  kind: 'reset-sent' | 'reset-received';
  socket: string | null; // null: a reset for a segment no socket wanted
  state: string | null; // the socket's state, null without a socket
  reason: string | null; // sent resets on 6.10+: NO_SOCKET, TCP_ABORT_ON_CLOSE, ... (from the format file)
  local: string;
  remote: string;
}

/** A packet the kernel freed as dropped (`skb:kfree_skb`), with the kernel's reason. */
export interface DropEvent extends Base {
  kind: 'drop';
  reason: string; // SOCKET_RCVBUFF, NO_SOCKET, NETFILTER_DROP, ... (from the format file)
  location: string; // the kernel function that dropped it ("__udp_enqueue_schedule_skb+0x1c7"), or its address
  ethertype: number; // 0x0800 IPv4, 0x86dd IPv6
  proto: 'tcp' | 'udp' | 'icmp' | 'other' | null; // null: not an IP packet
  src: string | null; // "ip:port" of the packet's sender
  dst: string | null;
  /** UDP: payload length and its first bytes (up to 8, hex): "00000009" names datagram 9 of a lab that numbers them */
  udpLength: number | null;
  firstBytes: string | null;
  /** TCP: the segment's sequence number and flags */
  seq: number | null;
  tcpFlags: number | null;
  /**
   * How many datagrams this event stands for: 1, or a run of consecutively numbered UDP datagrams
   * (first 4 payload bytes, big-endian) dropped one after another for the same reason, folded in
   * the kernel; then `lastNumber` and `lastTime` are the run's last datagram.
   */
  count: number;
  lastNumber: number | null;
  lastTime: number | null;
}

export type KernelEvent = StateEvent | RetransmitEvent | SynAckRetransmitEvent | ResetEvent | DropEvent;

/** How kernel times were put on the pcap clock. */
export interface ClockMapping {
  method: string;
  /** realtime - kernel time, seconds, at the start calibration */
  offsetS: number;
  /** half-width of the interval the offset was measured in, microseconds */
  errorUs: number;
  /** how far the offset moved between the start and the end calibration, microseconds (times use a linear fit) */
  driftUs: number | null;
}

export interface KernelEventsAvailable {
  available: true;
  events: KernelEvent[];
  /** events the kernel emitted that did not reach us (perf buffer full) */
  lost: number;
  /** lines the kernel emitted, by kind ("run": a fold of consecutive UDP drops) */
  emitted: Record<string, number>;
  /** dropped packets per namespace and reason, counted in the kernel (never lost) */
  dropCounts: { netns: string; reason: string; count: number }[];
  clock: ClockMapping;
  namespaces: { netns: string; inode: number }[];
  startMs: number; // how long bpftrace took to attach
  cpuMs: number | null; // CPU time bpftrace used between ready and stop (its cost while the lab ran)
}

export interface KernelEventsMissing {
  available: false;
  /** why there are no kernel events, and how to get them */
  missing: string;
  fix: string | null;
}

export type KernelEvents = KernelEventsAvailable | KernelEventsMissing;

/** What a lab's report keeps of its kernel events: how many, how good, or what was missing. */
export type KernelEventsSummary =
  | {
      available: true;
      events: number;
      lost: number;
      errorUs: number; // clock mapping error
      driftUs: number | null;
      dropCounts: { netns: string; reason: string; count: number }[];
      startMs: number;
      /** events per kind (state, retransmit, synack-retransmit, reset-sent, reset-received, drop) */
      byKind: Record<string, number>;
      /** CPU bpftrace used while the lab ran (shared with labs running beside it), ms */
      cpuMs: number | null;
    }
  | KernelEventsMissing;

export function summarizeKernelEvents(k: KernelEvents): KernelEventsSummary {
  if (!k.available) return k;
  const byKind: Record<string, number> = {};
  for (const e of k.events) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
  return { available: true, events: k.events.length, lost: k.lost, errorUs: k.clock.errorUs, driftUs: k.clock.driftUs, dropCounts: k.dropCounts, startMs: k.startMs, byKind, cpuMs: k.cpuMs };
}
