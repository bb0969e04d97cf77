/** One TCP state vocabulary: the kernel's numbers and spellings map onto the RFC names the analysis uses. */
import { expect, test } from 'vitest';
import { TCP_STATES, TcpState, stateFromKernel, stateFromName } from '../../src/tcp-state.js';
import { parseProcNet } from '../../src/observe/proc-net.js';

test('the kernel numbers 1..12 (include/net/tcp_states.h) name RFC states', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(stateFromKernel)).toEqual([
    'ESTABLISHED', 'SYN_SENT', 'SYN_RCVD', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT', 'CLOSED', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'SYN_RCVD',
  ]);
  expect(stateFromKernel(0)).toBeNull();
  expect(stateFromKernel(13)).toBeNull();
});

test('the kernel\'s, ss\'s and the RFC\'s spellings read as one name', () => {
  expect(stateFromName('SYN_RECV')).toBe(TcpState.SYN_RCVD);
  expect(stateFromName('TCP_NEW_SYN_RECV')).toBe('SYN_RCVD');
  expect(stateFromName('FIN_WAIT1')).toBe('FIN_WAIT_1');
  expect(stateFromName('fin-wait-2')).toBe('FIN_WAIT_2');
  expect(stateFromName('TCP_CLOSE')).toBe('CLOSED');
  expect(stateFromName('UNCONN')).toBeNull();
  for (const s of TCP_STATES) expect(stateFromName(s)).toBe(s);
});

test('/proc/net/tcp states come out in that vocabulary (SYN_RECV request sockets as SYN_RCVD)', () => {
  const line = (st: string): string =>
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
    `   0: 0100007F:1F90 0100007F:A2C6 ${st} 00000000:00000000 01:00000020 00000000     0        0 0 1 0000000000000000\n`;
  expect(parseProcNet(line('03'), 'tcp')[0]!.state).toBe('SYN_RCVD');
  expect(parseProcNet(line('0C'), 'tcp')[0]!.state).toBe('SYN_RCVD');
  expect(parseProcNet(line('04'), 'tcp')[0]!.state).toBe('FIN_WAIT_1');
  expect(parseProcNet(line('07'), 'udp')[0]!.state).toBe('UNCONN');
});
