/**
 * The kernel-event source's pure parts: the bpftrace program it builds, its lines to events (lines
 * as bpftrace printed them on this machine), tuple completion, sides, datagram numbers, the clock.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildScript } from '../../../src/observe/bpftrace-script.js';
import { memberOffset } from '../../../src/observe/btf-offset.js';
import { calibrationPoint, kernelToEpoch, type RealtimeOffset } from '../../../src/observe/kernel-clock.js';
import { applyRuns, leBytesHex, openRuns, parseEventLine, parseRunLine, type ParseContext } from '../../../src/observe/kernel-event-parse.js';
import { completeTuples, datagramNumber, datagramNumbers, describeKernelEvent, dropTotal, sideOf } from '../../../src/observe/kernel-join.js';
import { kernelStateName, kernelStateNumber, rfcStateName } from '../../../src/observe/kernel-tcp-states.js';
import type { DropEvent, KernelEvent, StateEvent } from '../../../src/observe/kernel-types.js';
import type { TracepointName } from '../../../src/observe/tracefs.js';
import { parseTracepointFormat, type TracepointFormat } from '../../../src/observe/tracepoint-format.js';

const fixture = (f: string): string => readFileSync(path.join(__dirname, 'fixtures', f), 'utf8');
const drop = parseTracepointFormat(fixture('kfree_skb-6.18.format'));
const reset = parseTracepointFormat(fixture('tcp_send_reset-6.18.format'));

const ctx: ParseContext = {
  toEpoch: (ns) => 1_700_000_000 + ns / 1e9,
  netnsOf: (i) => (i === 4026532175 ? 'lab-ns' : `inode ${i}`),
  dropFormat: drop,
  resetFormat: reset,
  symbols: new Map([['ffffffff820a7607', 'udp_queue_rcv_one_skb+0x437']]),
};

describe('TCP state numbers', () => {
  it('maps the kernel numbers 1..12 to kernel and RFC names', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(kernelStateName)).toEqual([
      'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV',
    ]);
    expect([3, 4, 7, 12].map(rfcStateName)).toEqual(['SYN_RCVD', 'FIN_WAIT_1', 'CLOSED', 'SYN_RCVD']);
    expect(kernelStateName(13)).toBe('STATE_13');
    expect(kernelStateNumber('FIN_WAIT_2')).toBe(5);
    expect(kernelStateNumber('nope')).toBeNull();
  });
});

describe('the bpftrace program', () => {
  const all = new Map<TracepointName, TracepointFormat>([
    ['sock/inet_sock_set_state', { name: 'inet_sock_set_state', fields: ['skaddr', 'oldstate', 'newstate', 'sport', 'dport', 'family', 'protocol', 'saddr', 'daddr', 'saddr_v6', 'daddr_v6'], symbols: new Map() }],
    ['skb/kfree_skb', drop],
    ['tcp/tcp_send_reset', reset],
    ['syscalls/sys_enter_fsync', { name: 'sys_enter_fsync', fields: ['__syscall_nr', 'fd'], symbols: new Map() }],
  ]);

  it('filters every probe in the kernel on the registered namespaces (a map lookup, after one comparison for the host)', () => {
    const s = buildScript(all, { base: 300_000_000 });
    const probes = s.split('\n').filter((l) => l.startsWith('tracepoint:'));
    expect(probes.map((l) => l.split(' ')[0])).toEqual(['tracepoint:syscalls:sys_enter_fsync', 'tracepoint:sock:inet_sock_set_state', 'tracepoint:tcp:tcp_send_reset', 'tracepoint:skb:kfree_skb']);
    // every event probe: the host's namespace (init_net, below the dynamic inodes) out first, then the registered set
    expect(s.match(/if \(\$ns >= 4026531840\) \{\n {4}\$g = @ns\[\(uint64\)\$ns\];\n {4}if \(\$g != 0\)/g)).toHaveLength(3);
    // the control window: calibration tags, registrations, removals
    expect(s).toContain(`args->fd >= 300000000 && args->fd < ${300_000_000 + 3 * 2 ** 24}`);
    expect(s).toContain('@ns[$ino] = @next;');
    expect(s).toContain('delete(@ns[$ino]);');
    // the counters are printed before the removal is acknowledged
    expect(s.indexOf('print(@run);')).toBeLessThan(s.indexOf('printf("X'));
    expect(s).toContain('args->rx_sk');
    // tracepoints this kernel lacks are left out rather than failing the whole program
    expect(s).not.toContain('tcp_retransmit_skb');
  });

  it('sends numbers, not strings, from the per-drop program: counters keyed by numbers, no string literal but the printf formats', () => {
    const s = buildScript(all, { base: 300_000_000 });
    const body = s.slice(s.indexOf('tracepoint:skb:kfree_skb'));
    const withoutFormats = body.replace(/printf\("[^"]*"/g, 'printf(');
    expect(withoutFormats).not.toMatch(/"/);
    // a drop that continues a run touches only @run; the run's drops reach @drops when it ends
    expect(body).toContain('@drops[$g, $r] = sum($c.1 > 0 ? $c.1 : (uint64)1);');
    const continuing = body.slice(body.indexOf('if ($c.1 > 0 && $q == $c.0 + 1)'), body.indexOf('} else {', body.indexOf('if ($c.1 > 0 && $q == $c.0 + 1)')));
    expect(continuing).not.toContain('@drops');
    expect(body).toContain('@emitted[$g, 6] = count();');
  });

  it('does without rx_sk on kernels before 6.10', () => {
    const old = new Map(all);
    old.set('skb/kfree_skb', parseTracepointFormat(fixture('kfree_skb-5.17.format')));
    expect(buildScript(old, { base: 2 })).not.toContain('rx_sk');
  });

  it('refuses a window that is not a positive integer or does not fit a descriptor (it is written into the program)', () => {
    expect(() => buildScript(all, { base: 0 })).toThrow(TypeError);
    expect(() => buildScript(all, { base: Number.NaN })).toThrow(TypeError);
    expect(() => buildScript(all, { base: 2 ** 31 - 2 ** 24 })).toThrow(TypeError);
  });
});

describe('event lines', () => {
  it('parses a state change, with the listener and v4-mapped addresses made canonical', () => {
    const e = parseEventLine('S 556512160931 4026532175 ffff88819ddd40c0 10 3 8080 58554 ::ffff:127.0.0.1 ::ffff:127.0.0.1', ctx) as StateEvent;
    expect(e).toEqual({ kind: 'state', time: 1_700_000_000 + 556.512160931, netns: 'lab-ns', socket: 'ffff88819ddd40c0', from: 'LISTEN', to: 'SYN_RECV', local: '127.0.0.1:8080', remote: '127.0.0.1:58554' });
    const v6 = parseEventLine('S 1 4026532175 ff 7 2 0 80 fd00::1 fd00::2', ctx) as StateEvent;
    expect([v6.local, v6.remote]).toEqual(['[fd00::1]:0', '[fd00::2]:80']);
  });

  it('parses a UDP drop with its reason, location and the first payload bytes', () => {
    // datagram 9 (first 4 bytes 00 00 00 09) read as a little-endian u64 = 150994944
    const e = parseEventLine('D 556528628775 4026532175 6 2048 4 17 127.0.0.1 127.0.0.1 42051 34791 108 150994944 ffffffff820a7607', ctx) as DropEvent;
    expect(e).toMatchObject({ kind: 'drop', reason: 'SOCKET_RCVBUFF', location: 'udp_queue_rcv_one_skb+0x437', proto: 'udp', src: '127.0.0.1:42051', dst: '127.0.0.1:34791', udpLength: 100, firstBytes: '0000000900000000' });
    expect(datagramNumber(e)).toBe(9);
    const short = parseEventLine('D 1 4026532175 6 2048 4 17 127.0.0.1 127.0.0.1 1 2 11 150994944 ffffffff820a7607', ctx) as DropEvent;
    expect(short.firstBytes).toBe('000000');
    expect(datagramNumber(short)).toBeNull();
  });

  it('parses a TCP drop, a reset sent for no socket, a reset received and a retransmission', () => {
    const d = parseEventLine('D 556522651975 4026532175 3 2048 4 6 127.0.0.1 127.0.0.1 52242 9 893777973 2 ffffffff82094f49', ctx) as DropEvent;
    expect(d).toMatchObject({ reason: 'NO_SOCKET', proto: 'tcp', seq: 893777973, tcpFlags: 2, location: '0xffffffff82094f49', udpLength: null });
    expect(parseEventLine('O 556522625676 4026532175 0 0 1 9 52242 127.0.0.1 127.0.0.1', ctx)).toMatchObject({ kind: 'reset-sent', socket: null, state: null, reason: 'NO_SOCKET', local: '127.0.0.1:9', remote: '127.0.0.1:52242' });
    expect(parseEventLine('I 5 4026532175 ffff1 52242 9 ::ffff:127.0.0.1 ::ffff:127.0.0.1', ctx)).toMatchObject({ kind: 'reset-received', local: '127.0.0.1:52242', remote: '127.0.0.1:9' });
    expect(parseEventLine('R 5 4026532175 ffff1 1 41000 80 ::ffff:10.0.0.1 ::ffff:10.0.0.2 4242 0', ctx)).toMatchObject({ kind: 'retransmit', state: 'ESTABLISHED', seq: 4242, err: 0, local: '10.0.0.1:41000' });
    // without the skb control block's offset (no BTF) the sequence number is unknown, not made up
    const unknown = parseEventLine('R 5 4026532175 ffff1 2 41000 80 ::ffff:10.0.0.1 ::ffff:10.0.0.2 - 0', ctx)!;
    expect(unknown).toMatchObject({ kind: 'retransmit', state: 'SYN_SENT', seq: null });
    expect(describeKernelEvent(unknown)).toBe('retransmitted a segment in SYN_SENT (kernel)');
    const nonIp = parseEventLine('D 5 4026532175 2 2054 0 ffffffff820a7607', ctx) as DropEvent;
    expect(nonIp).toMatchObject({ reason: 'NOT_SPECIFIED', proto: null, src: null, ethertype: 0x806 });
    expect(describeKernelEvent(nonIp)).toContain('non-IP packet (ethertype 0x806)');
    expect(parseEventLine('S 1 2', ctx)).toBeNull();
    expect(parseEventLine('B 12', ctx)).toBeNull();
  });

  it('folds runs of consecutively numbered drops (U lines and runs open at exit) into the drop that began each', () => {
    // the payload's first 4 bytes (n big-endian) as bpftrace reads them: a little-endian u64
    const le = (n: number): number => (((n & 0xff) << 24) | (((n >> 8) & 0xff) << 16) | (((n >> 16) & 0xff) << 8) | (n >>> 24)) >>> 0;
    const d = (t: number, n: number): DropEvent => parseEventLine(`D ${t} 4026532175 6 2048 4 17 127.0.0.1 127.0.0.1 40000 5000 108 ${le(n)} ffffffff820a7607`, ctx) as DropEvent;
    const evs = [d(100, 9), d(300, 1500), d(500, 1000), d(700, 7)];
    expect(datagramNumber(evs[1]!)).toBe(1500);
    const closed = [parseRunLine('U 200 4026532175 6 40000 5000 999 991')!, parseRunLine('U 400 4026532175 6 40000 5000 1999 500')!];
    // as bpftrace -f json prints the map at exit
    const open = openRuns(JSON.parse('{"@run": {"4026532175,6,40000,5000": [1499,500,600], "4026532175,6,1,2": [7,1,5]}}'));
    expect(open).toEqual([{ kernelNs: 600, inode: 4026532175, reason: 6, sport: 40000, dport: 5000, last: 1499, count: 500 }]);
    expect(applyRuns(evs, [...closed, ...open], ctx)).toBe(0);
    expect(evs.map((e) => [datagramNumber(e), e.count, e.lastNumber])).toEqual([[9, 991, 999], [1500, 500, 1999], [1000, 500, 1499], [7, 1, null]]);
    expect(dropTotal(evs)).toBe(1992);
    expect(datagramNumbers(evs[0]!)).toHaveLength(991);
    expect(datagramNumbers(evs[0]!).at(-1)).toBe(999);
    expect(describeKernelEvent(evs[1]!)).toBe('dropped 500 UDP datagrams 127.0.0.1:40000 -> 127.0.0.1:5000 numbered 1500..1999: SOCKET_RCVBUFF in udp_queue_rcv_one_skb+0x437 (kernel)');
    // a run whose first line never arrived is reported, not guessed
    expect(applyRuns([d(1, 50)], [parseRunLine('U 9 4026532175 6 40000 5000 80 10')!], ctx)).toBe(1);
    expect(parseRunLine('U 1 2')).toBeNull();
  });

  it('turns a little-endian u64 into the bytes as they were on the wire', () => {
    expect(leBytesHex('150994944', 4)).toBe('00000009');
    expect(leBytesHex('18446744073709551615', 8)).toBe('ffffffffffffffff');
    expect(leBytesHex('1', 0)).toBe('');
  });
});

describe('joining events with connections', () => {
  const st = (time: number, socket: string, from: string, to: string, local: string, remote: string): StateEvent => ({ kind: 'state', time, netns: 'n', socket, from, to, local, remote });

  it("gives a SYN_SENT event (port 0: not chosen yet) the port of the socket's next event", () => {
    const evs: KernelEvent[] = [
      st(1, 'a', 'CLOSE', 'SYN_SENT', '127.0.0.1:0', '127.0.0.1:80'),
      st(2, 'a', 'SYN_SENT', 'ESTABLISHED', '127.0.0.1:5555', '127.0.0.1:80'),
      st(3, 'a', 'ESTABLISHED', 'CLOSE', '127.0.0.1:5555', '127.0.0.1:80'),
      st(4, 'a', 'CLOSE', 'SYN_SENT', '127.0.0.1:0', '127.0.0.1:80'), // the address reused by a new socket: its own port
      st(5, 'a', 'SYN_SENT', 'CLOSE', '127.0.0.1:6666', '127.0.0.1:80'),
    ];
    completeTuples(evs);
    expect(evs.map((e) => (e as StateEvent).local)).toEqual(['127.0.0.1:5555', '127.0.0.1:5555', '127.0.0.1:5555', '127.0.0.1:6666', '127.0.0.1:6666']);
  });

  it('tells client, server and listener apart; a drop belongs to the side it was sent to', () => {
    const c = { client: '10.0.0.1:40000', server: '10.0.0.2:80' };
    expect(sideOf(st(1, 'a', 'CLOSE', 'SYN_SENT', '10.0.0.1:40000', '10.0.0.2:80'), c)).toBe('client');
    expect(sideOf(st(1, 'b', 'LISTEN', 'SYN_RECV', '10.0.0.2:80', '10.0.0.1:40000'), c)).toBe('server');
    expect(sideOf(st(1, 'l', 'CLOSE', 'LISTEN', '10.0.0.2:80', '0.0.0.0:0'), c)).toBe('listener');
    expect(sideOf(st(1, 'x', 'CLOSE', 'LISTEN', '10.0.0.3:80', '0.0.0.0:0'), c)).toBeNull();
    const d = parseEventLine('D 1 4026532175 3 2048 4 6 10.0.0.1 10.0.0.2 40000 80 1 2 ff', ctx)!;
    expect(sideOf(d, c)).toBe('server');
  });

  it("says the active closer's TIME_WAIT lives on in a timewait socket", () => {
    expect(describeKernelEvent(st(1, 'a', 'FIN_WAIT2', 'CLOSE', '10.0.0.1:4', '10.0.0.2:80'))).toMatch(/TIME_WAIT continues in a timewait socket/);
  });
});

describe.skipIf(!existsSync('/sys/kernel/btf/vmlinux'))("struct offsets from the running kernel's BTF", () => {
  it('finds the skb control block and the TCP sequence number at the start of it', () => {
    expect(memberOffset('tcp_skb_cb', 'seq')).toBe(0);
    expect(memberOffset('tcp_skb_cb', 'end_seq')).toBe(4);
    const cb = memberOffset('sk_buff', 'cb');
    expect(cb).toBeGreaterThanOrEqual(16);
    expect(cb! % 8).toBe(0);
    expect(memberOffset('sk_buff', 'no_such_member')).toBeNull();
    expect(memberOffset('no_such_struct', 'cb')).toBeNull();
    expect(memberOffset('sk_buff', 'cb', '/nonexistent')).toBeNull();
  });
});

describe('the clock', () => {
  const rt: RealtimeOffset = { offsetNs: 1_700_000_000_000_000_000n - 1_000_000n, halfNs: 100 }; // realtime = monotonic + 1.7e18 - 1 ms

  it('keeps the narrowest marker bracket and adds both errors', () => {
    // kernel clock = monotonic + 500 ns; brackets of 4 µs and 1 µs around the syscall
    const p = calibrationPoint(
      [{ before: 10_000n, after: 14_000n }, { before: 20_000n, after: 21_000n }],
      [12_500n, 21_000n],
      rt,
    )!;
    expect(p.halfNs).toBe(600);
    expect(p.kernelNs).toBe(21_000);
    // realtime - kernel = (realtime - monotonic) - (kernel - monotonic) = rt - 500
    expect(p.offsetNs).toBe(rt.offsetNs - 500n);
  });

  it('maps kernel ns to epoch seconds, following the drift between two calibrations', () => {
    const start = { kernelNs: 1e9, offsetNs: 1_700_000_000_000_000_000n, halfNs: 1000 };
    const end = { kernelNs: 11e9, offsetNs: 1_700_000_000_000_001_000n, halfNs: 1000 }; // +1 µs over 10 s
    const f = kernelToEpoch(start, end);
    expect(f(1e9)).toBeCloseTo(1_700_000_001, 6);
    expect((f(6e9) - 1_700_000_006) * 1e9).toBeCloseTo(500, -2); // half the drift, at half time (float: ~0.2 µs)
    expect(kernelToEpoch(start, null)(2e9)).toBeCloseTo(1_700_000_002, 6);
  });
});
