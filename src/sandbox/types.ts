/**
 * The sandbox contract: the only code that changes kernel state lives behind it, always inside
 * namespaces it created, never in the host's network namespace.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export type HostRole = 'client' | 'server' | 'router';

export type TopologySpec =
  | { kind: 'loopback'; mtu?: number } // one namespace, client and server on lo (127.0.0.1 / ::1)
  | { kind: 'veth'; mtu?: number } // client <-> server on a veth pair
  | { kind: 'router'; mtu?: number; serverMtu?: number }; // client <-> router <-> server

export interface LabHost {
  role: HostRole;
  netns: string; // the namespace name (ip netns)
  iface: string; // the interface a capture on this host listens on ('lo' or 'eth0')
  addr4: string; // this host's IPv4 address as peers reach it
  addr6: string;
  mtu: number;
}

/** key: the sysctl name as `sysctl` spells it ("net.ipv4.tcp_synack_retries"). */
export type SysctlSpec = Record<string, string | number | { value: string | number; optional: true }>;

export interface SysctlResult {
  key: string;
  value: string; // what it reads back as after setting
  previous: string;
  skipped: boolean; // optional and could not be set
  reason?: string;
}

/** Which packets a fault rule matches. All fields optional; absent = any. */
export interface PacketMatch {
  proto?: 'tcp' | 'udp' | 'icmp';
  from?: HostRole; // the sender (by its address)
  sport?: number;
  dport?: number;
  /** TCP flag shapes: 'syn' (SYN only), 'syn-ack', 'pure-ack' (only ACK set), 'fin' (FIN set), 'rst', 'data' (payload > 0). */
  tcp?: 'syn' | 'syn-ack' | 'pure-ack' | 'fin' | 'rst' | 'data';
  /** Only packets with this IPv4 TTL / IPv6 hop limit (a kernel sends 64 here; a copy re-sent with 63 is told apart). */
  ttl?: number;
}

/**
 * Faults are applied on the receiving host's INPUT path (nftables prerouting/input of the namespace
 * that receives the packet), so a capture on that host still shows the packet that was dropped.
 */
export type FaultRule =
  | { kind: 'drop-nth'; name: string; at: HostRole; match: PacketMatch; nth: number; count?: number; armed?: boolean } // drop packets nth..nth+count-1 of those matching while armed
  | { kind: 'drop-window'; name: string; at: HostRole; match: PacketMatch; armed?: boolean } // drops while armed (arm/disarm from the lab, or with a timeout)
  | { kind: 'random-loss'; name: string; at: HostRole; match: PacketMatch; percent: number; nflogGroup?: number; armed?: boolean } // percent in steps of 0.01; nflogGroup: also hand each dropped packet to NFLOG group N (capture it with tcpdump -i nflog:N)
  | { kind: 'fragment-loss'; name: string; at: HostRole; percent: number; armed?: boolean };

export interface FaultCount {
  name: string;
  dropped: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  readonly id: string; // unique per run, part of every namespace name
  readonly topology: TopologySpec;
  readonly roles: HostRole[]; // client and server always; router when the topology has one
  host(role: HostRole): LabHost; // on 'loopback' client and server are the same host
  /** Spawn a program inside a host's namespace (ip netns exec). */
  spawn(role: HostRole, argv: string[], opts?: SpawnOptions): ChildProcess;
  exec(role: HostRole, argv: string[], input?: string): Promise<ExecResult>;
  /** Set sysctls in every namespace of the sandbox (or one role). Throws SYSCTL_FAILED for a required key that cannot be set. */
  setSysctls(spec: SysctlSpec, role?: HostRole): Promise<SysctlResult[]>;
  applyFaults(rules: FaultRule[]): Promise<void>;
  /** Arm a rule (any kind), optionally for a duration (then it disarms by itself). */
  armFault(name: string, durationMs?: number): Promise<void>;
  disarmFault(name: string): Promise<void>;
  faultCounts(): Promise<FaultCount[]>;
  /** PID of a long-lived process inside the role's namespace: read /proc/<pid>/net/* through it. */
  nsPid(role: HostRole): number;
  /** Run `hook` first when the sandbox is destroyed (normal end, error or signal), e.g. to flush a capture. */
  onDestroy(hook: () => Promise<unknown>): void;
  destroy(): Promise<void>;
}
