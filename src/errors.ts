/**
 * One error base class for everything wirelab reports to a user. Callers match on `code`,
 * never on message text. The message always says what was wrong and what to do about it.
 */
export type WirelabErrorCode =
  | 'BAD_USAGE' // wrong flags / arguments (exit 2)
  | 'UNKNOWN_LAB' // `wirelab run nope` (exit 2)
  | 'BAD_LAB' // a lab definition names an unknown claim, a bad param spec (exit 2)
  | 'BAD_PCAP' // a capture we cannot read at all (exit 2)
  | 'FILE_NOT_FOUND' // (exit 2)
  | 'BAD_REPORT' // `wirelab report DIR`: no report.json there, or not one a run wrote (exit 2)
  | 'NOT_ROOT' // (exit 3)
  | 'NO_CAP_NET_ADMIN' // (exit 3)
  | 'NO_TCPDUMP' // (exit 3)
  | 'NO_TOOL' // ip / nft / iptables missing (exit 3)
  | 'KERNEL_FEATURE' // the kernel lacks something a lab needs (exit 3)
  | 'SYSCTL_FAILED' // a sysctl that cannot be set in the lab namespace (exit 3)
  | 'NETNS_FAILED' // could not create / configure a namespace (exit 3)
  | 'CAPTURE_START_FAILED' // tcpdump did not start listening (exit 3)
  | 'FAULT_RULE_FAILED' // nft/iptables rule could not be installed (exit 3)
  | 'PROGRAM_FAILED' // a lab program exited badly (lab error)
  | 'LAB_TIMEOUT' // a lab ran past its timeout
  | 'INTERNAL';

const EXIT: Record<WirelabErrorCode, number> = {
  BAD_USAGE: 2,
  UNKNOWN_LAB: 2,
  BAD_LAB: 2,
  BAD_PCAP: 2,
  FILE_NOT_FOUND: 2,
  BAD_REPORT: 2,
  NOT_ROOT: 3,
  NO_CAP_NET_ADMIN: 3,
  NO_TCPDUMP: 3,
  NO_TOOL: 3,
  KERNEL_FEATURE: 3,
  SYSCTL_FAILED: 3,
  NETNS_FAILED: 3,
  CAPTURE_START_FAILED: 3,
  FAULT_RULE_FAILED: 3,
  PROGRAM_FAILED: 1,
  LAB_TIMEOUT: 1,
  INTERNAL: 1,
};

export class WirelabError extends Error {
  readonly code: WirelabErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: WirelabErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'WirelabError';
    this.code = code;
    this.details = details;
  }
  /** The process exit code DESIGN.md assigns to this kind of failure. */
  get exitCode(): number {
    return EXIT[this.code];
  }
}

export function isWirelabError(e: unknown): e is WirelabError {
  return e instanceof WirelabError;
}

/** A short one-line description of any thrown value, for logs and reasons. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
