/**
 * Kernel state changes as a lab's evidence: found by socket and change, placed between packets
 * with the clock's own error as tolerance; without kernel events, the reason and the fix.
 */
import { describe, expect, it } from 'vitest';
import { kernelMissing, kernelState, kernelTolerance } from '../../../src/lab/kernel-evidence.js';
import type { KernelEvents, StateEvent } from '../../../src/observe/kernel-types.js';

const T = 1_700_000_000;
const state = (time: number, local: string, remote: string, from: string, to: string): StateEvent => ({ kind: 'state', time, netns: 'ns', socket: 'ffff1', from, to, local, remote });

const k: KernelEvents = {
  available: true,
  events: [
    state(T - 0.000083, '127.0.0.1:40000', '127.0.0.1:8080', 'CLOSE', 'SYN_SENT'),
    state(T + 0.000035, '127.0.0.1:40000', '127.0.0.1:8080', 'SYN_SENT', 'ESTABLISHED'),
    state(T + 0.000054, '127.0.0.1:8080', '127.0.0.1:40000', 'LISTEN', 'SYN_RECV'),
  ],
  lost: 0, emitted: {}, dropCounts: [], namespaces: [], startMs: 3, cpuMs: 0,
  clock: { method: 'test', offsetS: 0, errorUs: 10, driftUs: -3 },
};
const client = { local: '127.0.0.1:40000', remote: '127.0.0.1:8080' };

describe('kernel state changes between packets', () => {
  it('finds the change of that socket and says where it fell relative to the reference packet', () => {
    const s = kernelState(k, client, { to: 'SYN_SENT' }, { after: T - 0.001, before: T, ref: T });
    expect(s.event?.from).toBe('CLOSE');
    expect(s.us).toBe(-83);
    expect(s.inWindow).toBe(true);
  });

  it('tolerates the measured clock error and drift, and no more', () => {
    expect(kernelTolerance(k)).toBeCloseTo(15e-6, 9); // 10 µs error + 3 µs drift + 2 µs pcap rounding
    // SYN_RECV at +54 µs: after an ACK at +60 µs only within the tolerance (6 µs < 15 µs)
    expect(kernelState(k, { local: client.remote, remote: client.local }, { to: 'SYN_RECV' }, { after: T + 0.00006, before: null, ref: T }).inWindow).toBe(true);
    // ... but not after one at +80 µs
    expect(kernelState(k, { local: client.remote, remote: client.local }, { to: 'SYN_RECV' }, { after: T + 0.00008, before: null, ref: T }).inWindow).toBe(false);
  });

  it('tells sockets and changes apart (v4-mapped addresses made canonical)', () => {
    expect(kernelState(k, { local: '::ffff:127.0.0.1:40000', remote: '127.0.0.1:8080' }, { to: 'ESTABLISHED', from: 'SYN_SENT' }, { after: null, before: null, ref: T }).event).not.toBeNull();
    expect(kernelState(k, client, { to: 'ESTABLISHED', from: 'SYN_RECV' }, { after: null, before: null, ref: T }).event).toBeNull();
    expect(kernelState(k, { local: '127.0.0.1:40001', remote: '127.0.0.1:8080' }, { to: 'SYN_SENT' }, { after: null, before: null, ref: T }).event).toBeNull();
  });

  it('without kernel events: nothing found, and the reason with its fix', () => {
    const none: KernelEvents = { available: false, missing: 'bpftrace is not installed', fix: 'apt-get install bpftrace' };
    expect(kernelMissing(none)).toBe('bpftrace is not installed (fix: apt-get install bpftrace)');
    expect(kernelMissing(k)).toBeNull();
    expect(kernelState(none, client, { to: 'SYN_SENT' }, { after: null, before: null, ref: T })).toEqual({ event: null, us: null, inWindow: false });
  });
});
