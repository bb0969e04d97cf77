/**
 * The one vocabulary for TCP states, used by the analysis (states inferred from packets), the
 * observer (/proc/net/tcp, kernel events) and the labs: RFC 9293 names with underscores.
 *
 * The kernel spells some differently (SYN_RECV, FIN_WAIT1, CLOSE, NEW_SYN_RECV) and numbers them
 * 1..12 (include/net/tcp_states.h); stateFromKernel / stateFromName map both onto these names,
 * so a lab compares `socket.state === TcpState.TIME_WAIT` with no loose matching.
 */

export const TCP_STATES = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT',
] as const;

export type TcpState = (typeof TCP_STATES)[number];

/** The states by name, as a typed enum: TcpState.SYN_RCVD === 'SYN_RCVD'. */
export const TcpState: { readonly [S in TcpState]: S } = Object.freeze(
  Object.fromEntries(TCP_STATES.map((s) => [s, s])) as { [S in TcpState]: S },
);

/**
 * The kernel's state numbers (include/net/tcp_states.h: TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12),
 * as /proc/net/tcp prints them in hex (`st`) and the sock:inet_sock_set_state tracepoint gives them.
 * NEW_SYN_RECV is the request socket of a half-open connection: SYN_RCVD in RFC terms.
 */
const KERNEL: readonly (TcpState | null)[] = [
  null, 'ESTABLISHED', 'SYN_SENT', 'SYN_RCVD', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT', 'CLOSED', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'SYN_RCVD',
];

/** The state for a kernel state number 1..12, or null for any other number. */
export function stateFromKernel(n: number): TcpState | null {
  return Number.isInteger(n) && n >= 1 && n < KERNEL.length ? KERNEL[n]! : null;
}

/** The kernel's spellings (with or without a TCP_ prefix) beside the RFC ones. */
const NAMES: ReadonlyMap<string, TcpState> = new Map<string, TcpState>([
  ...TCP_STATES.map((s) => [s, s] as [string, TcpState]),
  ['SYN_RECV', 'SYN_RCVD'],
  ['NEW_SYN_RECV', 'SYN_RCVD'],
  ['FIN_WAIT1', 'FIN_WAIT_1'],
  ['FIN_WAIT2', 'FIN_WAIT_2'],
  ['CLOSE', 'CLOSED'],
]);

/** The state for a name as the kernel, ss, Wireshark or the RFC spell it ("TCP_SYN_RECV", "fin-wait-1"), or null. */
export function stateFromName(name: string): TcpState | null {
  const key = name.trim().toUpperCase().replace(/-/g, '_').replace(/^TCP_/, '');
  return NAMES.get(key) ?? null;
}
