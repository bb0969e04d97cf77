/**
 * What one UDP experiment found: the numbers iperf3 users know, the effective receive buffer, and
 * the attribution of every lost datagram to a cause. `wirelab udp --json` prints this object; its
 * field names are a contract (tests and other tools read them).
 */
import type { UdpParams } from './params.js';

export type UdpCauseId = 'send-error' | 'before-receiver' | 'injected-loss' | 'reassembly' | 'receive-buffer';

export interface UdpCause {
  cause: UdpCauseId;
  datagrams: number;
  /** One line a person reads: which counters or captures say so. */
  evidence: string;
}

export interface UdpAttribution {
  lost: number;
  causes: UdpCause[]; // every cause, in path order (sender, path, rule, reassembly, socket), zeros included
  explained: number; // sum of causes
  unexplained: number; // lost - explained (0 when the causes add up)
  notes: string[]; // disagreements between the sources, said plainly
}

/** Kernel drop reasons counted per reason name (kfree_skb), when a kernel-event source ran. */
export type KernelDropReasons = Record<string, number>;

/** What a kernel-event source saw: drops per reason, and where it can tell, per datagram. */
export interface KernelDrops {
  byReason: KernelDropReasons; // in the sandbox's namespaces
  /** seq (the first 4 payload bytes, big-endian) -> the reason its datagram was freed with. */
  bySeq?: Map<number, string>;
}

/**
 * The seam for kernel events: started before the first datagram, stopped after the last one was
 * read. Optional: the attribution stands on counters and captures alone; with a source its reasons
 * are shown beside each cause (SOCKET_RCVBUFF beside the receive buffer, FRAG_REASM_TIMEOUT beside
 * reassembly, NETFILTER_DROP beside the rule).
 */
export interface DropReasonSource {
  start(sandbox: import('../sandbox/types.js').Sandbox): Promise<void>;
  stop(): Promise<KernelDrops>;
}

export interface UdpResult {
  params: UdpParams;
  sender: {
    address: string;
    attempted: number;
    sent: number; // sends that completed without an error
    errors: number;
    errorCodes: Record<string, number>;
    seconds: number; // first to last send
    ratePerSec: number; // (attempted - 1) / seconds: sends per second over the send interval (0 for one datagram)
    cpuMs: number; // CPU time (user + system) the sender process used from its first send to its last send callback
    callbackSeconds: number; // first send to the last send callback: longer than `seconds` when sends waited in libuv's queue
    queuedMax: number; // the deepest libuv's send queue got (sends the kernel refused with EAGAIN, a full send buffer, and libuv retried)
    queuedMaxBytes: number; // its bytes then
  };
  receiver: {
    address: string; // ip:port
    received: number;
    lost: number; // attempted - received
    lossPercent: number;
    lossText: string; // two significant digits, "3.1%"
    outOfOrder: number; // arrived after a higher sequence number (iperf3's count, duplicates excluded)
    duplicates: number;
    jitterMs: number; // RFC 3550, as iperf3 computes it
    foreign: number; // datagrams that were not ours
    cpuMs: number; // CPU time the receiver process used (its worker thread included), startup included
  };
  rcvbuf: {
    requested: number | null; // SO_RCVBUF asked for (null: the kernel's default)
    effective: number; // getsockopt(SO_RCVBUF): what the socket got
    rmemMax: number | null; // net.core.rmem_max (the host's; a namespace cannot change it)
    rmemDefault: number | null;
    clamped: boolean; // the request was cut to rmem_max
    explanation: string;
  };
  attribution: UdpAttribution;
  fragments: {
    packetsPerDatagram: number; // packets per datagram on the wire at the receiver (1: not fragmented)
    fragmentedDatagrams: number;
    /** The model 1 - (1 - P)^k for an injected per-packet loss P over k packets per datagram. */
    model: {
      perPacketLossPercent: number;
      packetsPerDatagram: number;
      predictedLossPercent: number;
      measuredLossPercent: number; // datagrams charged to the rule, in percent of those sent
    } | null;
  };
  counters: {
    receiver: Record<string, number>; // deltas of /proc/net/snmp, snmp6, netstat in the receiver's namespace
    sender: Record<string, number>;
    router: Record<string, number> | null;
    ruleDropped: number | null; // the loss rule's nft counter (packets)
    linkDrops: number; // rx/tx dropped on the sandbox's interfaces (ip -s link)
    qdiscDrops: number; // dropped by the sandbox's qdiscs (tc -s qdisc)
  };
  capture: {
    file: string;
    nflogFile: string | null; // the packets the loss rule dropped
    packets: number;
    droppedByKernel: number | null;
    complete: boolean;
    limits: string[];
    icmpTimeExceeded: number; // ICMP(v6) time exceeded seen at the receiver (reassembly gave up)
    icmpUnreachable: number; // ICMP(v6) destination unreachable seen at the receiver
  };
  kernelReasons: KernelDropReasons | null;
  durationMs: number;
}

/** 3.14159 -> "3.1%", 0.012345 -> "0.012%", 48.2 -> "48%", 0 -> "0%", 100 -> "100%". */
export function formatPercent(p: number): string {
  if (p === 0) return '0%';
  if (p >= 99.5 && p < 100) return `${+p.toPrecision(3)}%`;
  return `${+p.toPrecision(2)}%`;
}
