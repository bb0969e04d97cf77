/**
 * The kernel's TCP state numbers (include/net/tcp_states.h), as `inet_sock_set_state` and the
 * tcp tracepoints report them, with the kernel's name and the RFC 9293 name the analyzer uses.
 * One small table until the shared state vocabulary absorbs it.
 */
export interface KernelTcpState {
  kernel: string; // the kernel's name without TCP_: "SYN_RECV", "FIN_WAIT1", "CLOSE", "NEW_SYN_RECV"
  rfc: string; // RFC 9293 with underscores: "SYN_RCVD", "FIN_WAIT_1", "CLOSED"
}

const TABLE: readonly (KernelTcpState | undefined)[] = [
  undefined,
  { kernel: 'ESTABLISHED', rfc: 'ESTABLISHED' }, // 1
  { kernel: 'SYN_SENT', rfc: 'SYN_SENT' }, // 2
  { kernel: 'SYN_RECV', rfc: 'SYN_RCVD' }, // 3
  { kernel: 'FIN_WAIT1', rfc: 'FIN_WAIT_1' }, // 4
  { kernel: 'FIN_WAIT2', rfc: 'FIN_WAIT_2' }, // 5
  { kernel: 'TIME_WAIT', rfc: 'TIME_WAIT' }, // 6
  { kernel: 'CLOSE', rfc: 'CLOSED' }, // 7
  { kernel: 'CLOSE_WAIT', rfc: 'CLOSE_WAIT' }, // 8
  { kernel: 'LAST_ACK', rfc: 'LAST_ACK' }, // 9
  { kernel: 'LISTEN', rfc: 'LISTEN' }, // 10
  { kernel: 'CLOSING', rfc: 'CLOSING' }, // 11
  { kernel: 'NEW_SYN_RECV', rfc: 'SYN_RCVD' }, // 12: a request socket (half-open connection)
];

/** The kernel's name of state `n` ("STATE_13" for a number this table does not know). */
export function kernelStateName(n: number): string {
  return TABLE[n]?.kernel ?? `STATE_${n}`;
}

/** The RFC 9293 name of kernel state `n`, as the packet analysis writes states. */
export function rfcStateName(n: number): string {
  return TABLE[n]?.rfc ?? `STATE_${n}`;
}

/** The kernel number of a kernel or RFC state name, or null. */
export function kernelStateNumber(name: string): number | null {
  const i = TABLE.findIndex((s) => s !== undefined && (s.kernel === name || s.rfc === name));
  return i < 0 ? null : i;
}
