/**
 * A lab is data plus small programs: what it is about (claims), where it runs (topology, sysctls,
 * faults), what it does (run: drives real programs inside the namespace), and what must be true
 * afterwards (judge: expectations over the analyzed capture, the observations and the programs'
 * own results, and a verdict per claim). The runner never looks at a lab's name.
 */
import type { Analysis, TcpConnection } from '../analyze/model.js';
import type { CaptureStats } from '../capture/live-types.js';
import type { KernelEvents, Observation, SocketEntry } from '../observe/index.js';
import type { FaultCount, FaultRule, HostRole, Sandbox, SysctlResult, SysctlSpec, TopologySpec } from '../sandbox/types.js';

export type Family = 4 | 6;
export type ParamValue = string | number | boolean;

export interface LabParam {
  default: ParamValue;
  help: string;
}

export interface LabDefinition {
  name: string;
  title: string;
  claims: string[]; // IDs from CLAIMS.md
  seconds: number; // how long a run usually takes
  needs: string[]; // 'root', 'tcpdump', 'nft', ... (shown by `list`, checked by the runner)
  topology: TopologySpec;
  families?: Family[]; // default [4, 6]
  sysctls?: SysctlSpec;
  faults?: FaultRule[];
  captureAt?: HostRole; // default 'server'
  params?: Record<string, LabParam>;
  timeoutMs?: number; // default: 10 x seconds, at least 20 s
  explanation: string; // what a learner reads
  run(ctx: LabRunContext): Promise<void>;
  judge(ctx: LabJudgeContext, j: Judge): void;
}

export interface ProgramMessage {
  event: string;
  t: number; // epoch seconds when the program printed it
  [k: string]: unknown;
}

export interface ProgramResult {
  name: string;
  role: HostRole;
  code: number | null;
  signal: string | null;
  messages: ProgramMessage[];
  stderr: string;
}

export interface ProgramHandle {
  readonly name: string;
  readonly role: HostRole;
  /** Resolves with the first message of this event (already received ones count). Rejects if the program exits first. */
  next(event: string, timeoutMs?: number): Promise<ProgramMessage>;
  /** Send a command (one JSON line on the program's stdin). */
  send(command: Record<string, unknown>): void;
  /** Resolves when the program has exited. */
  done(timeoutMs?: number): Promise<ProgramResult>;
}

export interface LabRunContext {
  readonly family: Family;
  readonly params: Record<string, ParamValue>;
  readonly sandbox: Sandbox;
  /** The address peers use to reach a host, in this run's family. */
  addr(role: HostRole): string;
  /** Start a program from labs/programs/ inside a host's namespace; args arrive as JSON. */
  program(role: HostRole, name: string, args: Record<string, unknown>): ProgramHandle;
  sleep(ms: number): Promise<void>;
  /** Wait until a socket in the host's namespace matches (sampled from /proc/net/tcp*). */
  waitForSocket(role: HostRole, pred: (s: SocketEntry) => boolean, timeoutMs: number): Promise<SocketEntry>;
  /** Put a labelled mark on the run's timeline. */
  mark(label: string): void;
}

export interface LabJudgeContext {
  readonly family: Family;
  readonly params: Record<string, ParamValue>;
  readonly analysis: Analysis;
  readonly observation: Observation;
  /** The kernel's own events (state changes, retransmissions, resets, drops), or why there are none. */
  readonly kernelEvents: KernelEvents;
  readonly programs: Record<string, ProgramResult>;
  readonly faults: FaultCount[];
  readonly sysctls: SysctlResult[];
  readonly capture: CaptureStats;
  readonly marks: { label: string; t: number }[];
  readonly addr: (role: HostRole) => string;
  /** The TCP connections whose server side is `server` (ip:port, as the analysis writes it). */
  connectionsTo(serverPort: number): TcpConnection[];
}

export type ClaimVerdict = 'confirmed' | 'differs' | 'refuted' | 'untestable';

export interface ExpectationResult {
  text: string;
  ok: boolean;
  expected: unknown;
  actual: unknown;
  at: string; // labs/handshake.ts:42
  packets: number[]; // the packet numbers involved
}

export interface ClaimResult {
  id: string;
  verdict: ClaimVerdict;
  evidence: string;
}

export interface Judge {
  /** Deep-equality expectation. */
  equal(text: string, actual: unknown, expected: unknown, packets?: number[]): boolean;
  /** A condition; `actual` is what to print when it fails. */
  ok(text: string, cond: boolean, actual: unknown, expected: unknown, packets?: number[]): boolean;
  /** A timing or count within a tolerance: |actual - expected| <= max(abs, rel * expected). */
  near(text: string, actual: number | null, expected: number, tol: { abs?: number; rel?: number }, packets?: number[]): boolean;
  claim(id: string, verdict: ClaimVerdict, evidence: string): void;
}
