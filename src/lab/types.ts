/**
 * A lab is data plus small programs, read like a packetdrill script: what it sets up (topology,
 * sysctls, typed params), what it does (run: real programs in the namespaces, faults armed once the
 * ports are known, crafted packets), what must be true (facts gathered once, setup expectations,
 * then per claim ID its checks, its evidence sentence and, where Linux departs from the textbook, a
 * "differs" rule with the measured value). The runner turns those into verdicts; it never looks at a
 * lab's name.
 */
import type { Analysis, TcpConnection } from '../analyze/model.js';
import type { CaptureStats } from '../capture/live-types.js';
import type { KernelEvents, KernelEventsSummary, Observation, SocketEntry } from '../observe/index.js';
import type { FaultCount, HostRole, PacketMatch, Sandbox, SysctlResult, SysctlSpec, TopologySpec, FaultRule } from '../sandbox/types.js';
import type { CraftSpec } from './craft.js';
import type { FaultDrops } from './fault-drops.js';
import type { ParamSpecs, ParamValues } from './params.js';
import type { TimelineRow } from './timeline.js';
import type { UdpExperimentJson, UdpExperimentOptions } from './udp-context.js';
import type { UdpParams } from '../udp/params.js';
import type { UdpResult } from '../udp/result.js';

export type Family = 4 | 6;
export type ClaimVerdict = 'confirmed' | 'differs' | 'refuted' | 'untestable';

/** One check: what must be true, what was measured, where the lab wrote it. */
export interface Check {
  text: string;
  ok: boolean;
  expected: unknown;
  actual: unknown;
  at: string; // labs/tcp/open/handshake.ts:42
  packets: number[];
}

/** What the textbook says, what Linux does, and the value this run measured. */
export interface Differs {
  textbook: string;
  linux: string;
  measured: string;
}

/** A claim's rule for this run: checks + evidence; with `differs` the verdict is "differs" when the checks hold. */
export type ClaimRule =
  | { checks: Check[]; evidence: string; differs?: Differs | null }
  | { untestable: string };

export interface LabDefinition<P extends ParamSpecs = ParamSpecs, F = unknown> {
  name: string;
  title: string;
  topic: 'tcp/open' | 'tcp/close' | 'tcp/loss' | 'udp';
  seconds: number; // how long a run usually takes
  needs: string[]; // 'root', 'tcpdump', 'python3', ... (shown by `list`, checked before running)
  topology: TopologySpec;
  /** Default [4, 6]. A lab that runs over one family only says why in `familyNote`. */
  families?: Family[];
  familyNote?: string;
  sysctls?: SysctlSpec | ((params: ParamValues<P>) => SysctlSpec);
  captureAt?: HostRole; // default 'server'
  /**
   * A BPF filter for the run's own capture (default: none, every packet). A lab whose experiments
   * record their traffic themselves (the UDP engine writes one pcap per experiment) keeps the run's
   * capture to what it needs, e.g. 'icmp or icmp6', so the same datagrams are not captured twice.
   */
  captureFilter?: string;
  params?: P;
  timeoutMs?: number; // default: 10 x seconds, at least 20 s
  explanation: string; // what a learner reads before running it
  run(ctx: LabRunContext<P>): Promise<void>;
  /** Gather this run's facts once. Setup expectations that fail make the lab fail (claims untestable), not refute a claim. */
  facts(ctx: LabJudgeContext<P>, setup: Setup): F | null;
  /** Per claim ID (checked against labs/claims.ts): its rule for this run. */
  claims: Record<string, (f: F, ctx: LabJudgeContext<P>) => ClaimRule>;
  /** Lab-level checks that belong to no one claim (a timing, a counter). */
  checks?(f: F, ctx: LabJudgeContext<P>): Check[];
  /** The explanation tied to this run's numbers. */
  story?(f: F, ctx: LabJudgeContext<P>): string;
}

/** Any lab, whatever its params and facts (what the catalogue and the runner hold). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyLab = LabDefinition<any, any>;

export interface Setup {
  /** A condition the run needs before any claim can be judged (one connection captured, the program connected). */
  expect(text: string, cond: boolean, actual?: unknown, expected?: unknown): boolean;
}

export interface ProgramMessage {
  event: string;
  t: number; // epoch seconds when the program printed it
  [k: string]: unknown;
}

export interface ProgramResult {
  name: string;
  role: HostRole;
  program: string;
  code: number | null;
  signal: string | null;
  messages: ProgramMessage[];
  stderr: string;
}

export interface WaitOptions {
  /** The nth matching message (1-based; default 1). Messages already received count. */
  nth?: number;
  /** Only messages for which this holds. */
  where?: (m: ProgramMessage) => boolean;
  timeoutMs?: number; // default 10 s
}

export interface ProgramHandle {
  readonly name: string;
  readonly role: HostRole;
  /** Resolves with the nth message of this event matching `where`. Rejects if the program exits first. */
  next(event: string, opts?: WaitOptions | number): Promise<ProgramMessage>;
  /** Every message of this event so far. */
  all(event: string): ProgramMessage[];
  /** Send a command (one JSON line on the program's stdin). */
  send(command: Record<string, unknown>): void;
  /** Resolves when the program has exited. */
  done(timeoutMs?: number): Promise<ProgramResult>;
}

/** A fault armed at run time. */
export interface RuntimeFault {
  at: HostRole; // the receiving host: packets are dropped at its input, so a capture there shows them
  match: PacketMatch;
  /** 'all' (default) while armed, the nth..nth+count-1 matching packets, or a random percentage. */
  drop?: 'all' | { nth: number; count?: number } | { percent: number };
  armed?: boolean; // default true
}

export interface FaultHandle {
  readonly name: string;
  arm(durationMs?: number): Promise<void>;
  disarm(): Promise<void>;
  /** Packets this fault has dropped so far. */
  count(): Promise<number>;
}

export interface LabRunContext<P extends ParamSpecs = ParamSpecs> {
  readonly family: Family;
  readonly params: ParamValues<P>;
  readonly sandbox: Sandbox;
  /** The folder of this run's captures (captures/<run>): where a lab's own experiments write theirs. */
  readonly outDir: string;
  /** The address peers use to reach a host, in this run's family. */
  addr(role: HostRole): string;
  /** "ip:port" as the analysis and /proc spell it ("[::1]:80" for IPv6). */
  endpoint(role: HostRole, port: number): string;
  /** Start a program from labs/programs/ inside a host's namespace; args arrive as JSON. Named for the judge. */
  program(role: HostRole, program: string, args: Record<string, unknown>, name?: string): ProgramHandle;
  /** Install a fault now (ports are known); it drops at the receiver's input and lives in the lab's namespaces. */
  fault(name: string, spec: RuntimeFault): Promise<FaultHandle>;
  /** Send crafted TCP segments from inside a host's namespace (raw socket). */
  craft(role: HostRole, segments: CraftSpec[]): Promise<number[]>; // the epoch time of each send
  /** Run a command in a host's namespace; throws PROGRAM_FAILED when it exits non-zero. */
  exec(role: HostRole, argv: string[]): Promise<string>;
  sleep(ms: number): Promise<void>;
  /** Wait until a socket in the host's namespace matches (sampled from /proc/net/tcp*). */
  waitForSocket(role: HostRole, pred: (s: SocketEntry) => boolean, timeoutMs: number): Promise<SocketEntry>;
  /** Wait until the host's whole socket table satisfies `pred` (e.g. an entry has gone); resolves with that table. */
  waitForSockets(role: HostRole, pred: (all: SocketEntry[]) => boolean, timeoutMs: number): Promise<SocketEntry[]>;
  /** Read a host's kernel counters now ("TcpExt.ListenOverflows", ...). */
  counters(role: HostRole): Promise<Record<string, number>>;
  /** Put a labelled mark (and optional numbers) on the run's timeline. */
  mark(label: string, data?: Record<string, unknown>): void;
  /**
   * One UDP experiment (src/udp engine: numbered datagrams, capture, counters, every lost datagram
   * attributed), in this run's family unless `params.family` says otherwise; in the lab's sandbox
   * when its topology is the lab's and it injects no loss, else in a fresh one (src/lab/udp-context.ts).
   * Its numbers go to report.json (`labs[].udp`) and the judge reads it back with `ctx.udp(name)`.
   */
  udp(name: string, params: Partial<UdpParams>, opts?: UdpExperimentOptions): Promise<UdpResult>;
}

export interface Mark {
  label: string;
  t: number;
  data?: Record<string, unknown>;
}

export interface LabJudgeContext<P extends ParamSpecs = ParamSpecs> {
  readonly family: Family;
  readonly params: ParamValues<P>;
  readonly analysis: Analysis;
  /** The capture host's observation (sockets and counters). */
  readonly observation: Observation;
  /** Every host's observation (client and server namespaces on veth; one shared one on loopback). */
  readonly observations: Partial<Record<HostRole, Observation>>;
  /** The kernel's own events (state changes, retransmissions, resets, drops), or why there are none. */
  readonly kernelEvents: KernelEvents;
  readonly programs: Record<string, ProgramResult>;
  readonly faults: FaultCount[];
  readonly sysctls: SysctlResult[];
  readonly capture: CaptureStats;
  readonly marks: Mark[];
  readonly addr: (role: HostRole) => string;
  readonly endpoint: (role: HostRole, port: number) => string;
  /** The TCP connections to this server port. */
  connectionsTo(serverPort: number): TcpConnection[];
  /** A program's result by name; throws a clear error naming the programs that exist. */
  program(name: string): ProgramResult;
  mark(label: string): Mark | null;
  /** The result of the UDP experiment the run named so; throws a clear error naming those that exist. */
  udp(name: string): UdpResult;
}

export interface ClaimResult {
  id: string;
  verdict: ClaimVerdict;
  evidence: string;
  differs?: Differs;
}

export type { FaultRule };

/** What running one lab gave: the runner makes it, the reports draw it. */
export type LabVerdict = 'pass' | 'fail' | 'error' | 'skipped';

export interface LabOutcome {
  lab: string;
  family: Family;
  verdict: LabVerdict;
  reason: string | null;
  timedOut: boolean;
  capture: string | null;
  durationMs: number;
  params: Record<string, string | number | boolean>;
  claims: ClaimResult[];
  expectations: Check[]; // setup expectations, every claim's checks, the lab's own checks
  story: string | null; // the explanation tied to this run's numbers
  analysis: Analysis | null;
  captureStats: CaptureStats | null;
  faults: FaultCount[];
  sysctls: SysctlResult[];
  events: ProgramEvent[]; // every program message and mark, in time order
  timeline: TimelineRow[]; // packets joined with the sampled socket states
  observations: Partial<Record<HostRole, Observation>>; // every host's sockets and counters (the HTML report's state timeline)
  drops: FaultDrops | null; // the captured packets the lab's faults dropped
  kernelEvents: KernelEventsSummary | null; // the kernel's own events, summarised (null: the lab did not get that far)
  udp: UdpExperimentJson[] | null; // the lab's UDP experiments (ctx.udp), null when it ran none
}

export interface ProgramEvent {
  program: string; // a program's name, or 'mark'
  t: number; // epoch seconds
  event: string;
  data: Record<string, unknown>;
}

