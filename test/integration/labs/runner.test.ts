/**
 * The runner's own promises, with small labs defined here (real namespaces, real tcpdump): a lab that
 * hangs is stopped at its timeout and counted apart from failures; a failed expectation points at the
 * lab's own line with expected vs actual; a claim the lab never judged is untestable; fault counts and
 * sysctls reach the outcome.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLab } from '../../../src/lab/runner.js';
import { check } from '../../../src/lab/judge.js';
import type { AnyLab } from '../../../src/lab/types.js';
import { isRoot } from '../../support/cli.js';

const outDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'wl-runner-'));
const namespaces = (): string => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

function lab(over: Partial<AnyLab>): AnyLab {
  return {
    name: 'probe', title: 'a runner probe', topic: 'tcp/open', seconds: 1, needs: ['root'],
    topology: { kind: 'loopback' }, explanation: 'test',
    async run() {},
    facts: () => ({}),
    claims: { H01: () => ({ checks: [], evidence: 'nothing to check' }) },
    ...over,
  };
}

describe.skipIf(!isRoot)('lab runner (needs root)', () => {
  it('a lab that runs past its timeout is stopped, counted as timed out, and its namespace removed', async () => {
    const started = Date.now();
    const o = await runLab(lab({ timeoutMs: 1500, run: () => new Promise(() => {}) }), { family: 4, params: {}, outDir: outDir() });
    expect(o.verdict).toBe('error');
    expect(o.timedOut).toBe(true);
    expect(o.reason).toMatch(/LAB_TIMEOUT/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(o.claims).toEqual([{ id: 'H01', verdict: 'untestable', evidence: expect.stringContaining('did not finish') }]);
    expect(namespaces()).not.toContain(`wirelab-${process.pid}-`);
  });

  it('a failed check carries the lab file:line, expected and actual, and refutes its claim; differs and untestable rules', async () => {
    const o = await runLab(
      lab({
        facts: (ctx) => ({ packets: ctx.analysis.packets }),
        claims: {
          H01: (f: { packets: number }) => ({ checks: [check.eq('no packets were captured', f.packets, 12345)], evidence: 'a probe' }),
          H02: () => ({ checks: [check.ok('holds', true, 1, 1)], evidence: 'measured 60 s', differs: { textbook: '2MSL', linux: '60 s', measured: '59.9 s' } }),
          H03: () => ({ untestable: 'not on this kernel' }),
        },
      }),
      { family: 4, params: {}, outDir: outDir() },
    );
    expect(o.verdict).toBe('fail');
    const failed = o.expectations.find((e) => !e.ok)!;
    expect(failed.at).toMatch(/^test\/integration\/labs\/runner\.test\.ts:\d+$/);
    expect(failed.expected).toBe(12345);
    expect(failed.actual).toBe(0);
    expect(o.claims.map((c) => [c.id, c.verdict])).toEqual([['H01', 'refuted'], ['H02', 'differs'], ['H03', 'untestable']]);
    expect(o.claims[1]!.evidence).toContain('The textbook: 2MSL; Linux: 60 s; measured: 59.9 s');
  });

  it('a setup expectation that fails is a lab failure with every claim untestable, not a refutation', async () => {
    const o = await runLab(
      lab({ facts: (_ctx, setup) => (setup.expect('one connection was captured', false, 0, 1) ? {} : null) }),
      { family: 4, params: {}, outDir: outDir() },
    );
    expect(o.verdict).toBe('fail');
    expect(o.reason).toMatch(/^setup failed: one connection was captured/);
    expect(o.claims).toEqual([{ id: 'H01', verdict: 'untestable', evidence: expect.stringContaining('one connection was captured') }]);
  });

  it('a fault armed at run time reports its drops and sysctls read back into the outcome', async () => {
    const o = await runLab(
      lab({
        sysctls: { 'net.ipv4.tcp_synack_retries': 2 },
        async run(ctx) {
          // The namespace is fresh: this program's datagrams are its only UDP traffic.
          const f = await ctx.fault('third-udp', { at: 'server', match: { proto: 'udp' }, drop: { nth: 3 } });
          // A receiver on an ephemeral port (port 0) takes the datagrams: no port is hard-coded.
          const send = ctx.sandbox.exec('client', [process.execPath, '-e', `
            const dgram = require('dgram');
            const r = dgram.createSocket('udp4');
            const s = dgram.createSocket('udp4');
            r.bind(0, '127.0.0.1', () => {
              const port = r.address().port;
              let n = 0; const go = () => n++ < 5 ? s.send('x', port, '127.0.0.1', go) : (s.close(), r.close()); go();
            });`]);
          expect((await send).code).toBe(0);
          expect(await f.count()).toBe(1);
        },
        facts: (ctx) => ({ datagrams: ctx.analysis.udp[0]?.datagrams }),
        checks: (f: { datagrams: number }) => [check.eq('five datagrams were captured (the dropped one still shows)', f.datagrams, 5)],
      }),
      { family: 4, params: {}, outDir: outDir() },
    );
    expect(o.reason).toBeNull();
    expect(o.faults).toEqual([{ name: 'third-udp', dropped: 1 }]);
    expect(o.sysctls.find((s) => s.key === 'net.ipv4.tcp_synack_retries')?.value).toBe('2');
  });

  it('programs are named, waits take the nth event or a predicate, and every host of a veth pair is observed', async () => {
    const o = await runLab(
      lab({
        topology: { kind: 'veth' },
        async run(ctx) {
          const srv = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 }, 'srv');
          const port = Number((await srv.next('listening')).port);
          const a = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port }, 'first');
          const b = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port }, 'second');
          await a.next('connected');
          await b.next('connected');
          // The second "accepted" event, whichever client it was; then one chosen by a predicate.
          const second = await srv.next('accepted', { nth: 2 });
          const bPort = Number((await b.next('connected')).port);
          const viaWhere = await srv.next('accepted', { where: (m) => String(m.remote).endsWith(`:${bPort}`) });
          ctx.mark('waits', { second: String(second.remote), where: String(viaWhere.remote), bPort, port });
          await ctx.waitForSocket('client', (s) => s.state === 'ESTABLISHED' && s.local.endsWith(`:${bPort}`), 5000);
          await ctx.waitForSocket('server', (s) => s.state === 'ESTABLISHED' && s.remote.endsWith(`:${bPort}`), 5000);
          await expect(a.next('never', { timeoutMs: 200 })).rejects.toThrow(/lab program first \(tcp-peer on client\) did not report "never" within 200 ms/);
        },
        facts: (ctx) => ({ ctx }),
        checks: ({ ctx }: { ctx: Parameters<NonNullable<AnyLab['checks']>>[1] }) => {
          const m = ctx.mark('waits')!.data as { second: string; where: string; bPort: number; port: number };
          const local = (role: 'client' | 'server') => ctx.observations[role]!.samples.flatMap((x) => x.sockets.map((s) => s.local));
          return [
            check.eq('programs are known by name', Object.keys(ctx.programs).sort(), ['first', 'second', 'srv']),
            check.ok('the predicate wait found the second client', m.where.endsWith(`:${m.bPort}`), m.where, `:${m.bPort}`),
            check.eq('the nth wait resolved with an accepted event', typeof m.second, 'string'),
            check.ok("the server namespace's observer saw the listener, the client's did not", local('server').includes(ctx.endpoint('server', m.port)) && !local('client').includes(ctx.endpoint('server', m.port)), [local('server').length, local('client').length], 'listener on the server only'),
            check.ok("the client namespace's observer saw the client sockets", local('client').includes(ctx.endpoint('client', m.bPort)), local('client'), ctx.endpoint('client', m.bPort)),
            check.ok('every program message kept its time', ctx.programs.srv!.messages.every((x) => x.t > 1e9), ctx.programs.srv!.messages.length, 'all stamped'),
          ];
        },
      }),
      { family: 4, params: {}, outDir: outDir() },
    );
    expect(o.expectations.filter((e) => !e.ok)).toEqual([]);
    expect(o.verdict).toBe('pass');
    expect(o.events.filter((e) => e.program === 'srv' && e.event === 'accepted')).toHaveLength(2);
    expect(o.events.map((e) => e.t)).toEqual([...o.events.map((e) => e.t)].sort((x, y) => x - y));
  });

  it('a runtime fault can be disarmed and armed again; its count follows', async () => {
    const o = await runLab(
      lab({
        topology: { kind: 'veth' },
        async run(ctx) {
          const f = await ctx.fault('udp-all', { at: 'server', match: { proto: 'udp', from: 'client' } });
          const send = (n: number) => ctx.sandbox.exec('client', [process.execPath, '-e', `
            const s = require('dgram').createSocket('udp4');
            let n = 0; const go = () => n++ < ${n} ? s.send('x', 9, '${ctx.addr('server')}', go) : s.close(); go();`]);
          await send(3);
          expect(await f.count()).toBe(3);
          await f.disarm();
          await send(2);
          expect(await f.count()).toBe(3);
          await f.arm();
          await send(1);
          expect(await f.count()).toBe(4);
        },
      }),
      { family: 4, params: {}, outDir: outDir() },
    );
    expect(o.reason).toBeNull();
    expect(o.faults).toEqual([{ name: 'udp-all', dropped: 4 }]);
  });

  it('a random-loss fault is disarmed and armed again through its handle, like the others', async () => {
    const o = await runLab(
      lab({
        topology: { kind: 'veth' },
        async run(ctx) {
          // 100%: every datagram is a draw the rule wins, so the count says exactly whether it was armed.
          const f = await ctx.fault('udp-random', { at: 'server', match: { proto: 'udp', from: 'client' }, drop: { percent: 100 } });
          const send = (n: number) => ctx.sandbox.exec('client', [process.execPath, '-e', `
            const s = require('dgram').createSocket('udp4');
            let n = 0; const go = () => n++ < ${n} ? s.send('x', 9, '${ctx.addr('server')}', go) : s.close(); go();`]);
          await send(3);
          expect(await f.count()).toBe(3);
          await f.disarm();
          await send(4);
          expect(await f.count()).toBe(3);
          await f.arm(60_000);
          await send(2);
          expect(await f.count()).toBe(5);
        },
      }),
      { family: 4, params: {}, outDir: outDir() },
    );
    expect(o.reason).toBeNull();
    expect(o.faults).toEqual([{ name: 'udp-random', dropped: 5 }]);
  }, 120_000);
});
