/**
 * Kernel events against the real kernel, through the lab runner (real namespaces, tcpdump, bpftrace):
 * the handshake's SYN_SENT / SYN_RECV fall between the packets that cause them on the pcap clock;
 * a UDP receive-buffer overflow names every lost datagram with SOCKET_RCVBUFF and agrees with
 * Udp.RcvbufErrors; two labs in parallel see only their own events while the host's mounts,
 * namespaces and rules stay as they were; without bpftrace a lab still runs and says what is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentRecord, TcpConnection } from '../../../src/analyze/model.js';
import { runLab, runLabs } from '../../../src/lab/runner.js';
import type { Family, LabDefinition, LabJudgeContext } from '../../../src/lab/types.js';
import { datagramNumbers, drops, dropTotal, kernelEventsSupport, startKernelEventHub, stateChanges, statePath, type KernelEventHub } from '../../../src/observe/index.js';
import type { KernelEvents, KernelEventsAvailable } from '../../../src/observe/index.js';
import { renderLabOutcome, renderTimeline } from '../../../src/report/run-text.js';
import { isRoot } from '../../support/cli.js';
import { hostState } from '../../support/host-state.js';
import { tcpEcho, waitExit, waitLine } from '../sandbox/helpers.js';

const outDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'wl-kev-'));
/** The host's mount table without the namespace files of /run/netns (other runs on this machine add and remove theirs). */
/** The host's state; rule counters blanked (the test's own host connection passes the host's rules). */
const host = (): Record<string, string> => {
  const h = hostState({ namespaces: false });
  for (const k of ['nft', 'iptables']) h[k] = h[k]!.replace(/counter packets \d+ bytes \d+/g, 'counter').replace(/\[\d+:\d+\]/g, '[_]');
  return h;
};
const hostMounts = (): string => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => !/ \/run\/netns\/\S+ .* - nsfs /.test(l)).join('\n');
/** bpftrace processes whose parent is `ppid` (this test process: the hub's bpftrace runs under unshare, which execs it). */
const bpftracesOf = (ppid: number): Set<number> => {
  const out = new Set<number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (st.includes('(bpftrace)') && Number(f[1]) === ppid) out.add(Number(d));
    } catch {
      // gone
    }
  }
  return out;
};
const kallsymsHidden = (): boolean => /^0+ /.test(readFileSync('/proc/kallsyms', 'utf8').slice(0, 64));
const support = isRoot ? await kernelEventsSupport() : null;
const canRun = isRoot && !!support?.ok;

/** A probe lab that tests no claim; its facts rule always finds facts (so the run passes on its own checks). */
function lab(over: Partial<LabDefinition>): LabDefinition {
  return {
    name: 'kev-probe', title: 'kernel events probe', topic: 'tcp/open', claims: {}, seconds: 1, needs: ['root'],
    topology: { kind: 'loopback' }, explanation: 'test', async run() {}, facts: () => ({}), ...over,
  };
}

/** A facts rule that hands the judge's context (analysis, observation, kernel events) to the test. */
const keep = (got: (ctx: LabJudgeContext) => void): LabDefinition['facts'] => (ctx) => {
  got(ctx);
  return {};
};

function available(k: KernelEvents | undefined): KernelEventsAvailable {
  expect(k?.available, k && !k.available ? `${k.missing} (fix: ${k.fix})` : 'no kernel events').toBe(true);
  return k as KernelEventsAvailable;
}

const SYN = 0x02;
const ACK = 0x10;
const firstSeg = (c: TcpConnection, pred: (s: SegmentRecord) => boolean): SegmentRecord => {
  const s = c.segments.find(pred);
  expect(s, 'segment').toBeDefined();
  return s!;
};

/**
 * One bpftrace for the labs of this file, as a run has (it compiles once: 2-10 s idle, minutes on
 * a machine at a load average of 100+); the isolation and killed-run tests start their own.
 */
let hub: KernelEventHub | null = null;
const sharedHub = async (): Promise<KernelEventHub> => {
  hub ??= startKernelEventHub();
  expect(await hub.ready()).toBeNull();
  return hub;
};
afterAll(async () => {
  await hub?.close();
});

describe.skipIf(!canRun)(`kernel events (needs root and bpftrace: ${support?.detail ?? 'not root'})`, () => {
  beforeAll(async () => void (await sharedHub()), 300_000);
  it.each([4, 6] as Family[])('IPv%i handshake: client SYN_SENT and server SYN_RECV fall between the packets that cause them', async (family) => {
    let jctx: LabJudgeContext | null = null;
    const o = await runLab(lab({ run: async (ctx) => void (await tcpEcho(ctx.sandbox, family)), facts: keep((ctx) => (jctx = ctx)) }), { family, params: {}, outDir: outDir(), kernelHub: await sharedHub() });
    expect(o.verdict, o.reason ?? '').toBe('pass');
    const k = available(jctx!.kernelEvents);
    expect(k.lost).toBe(0);
    const c = jctx!.analysis.tcp[0]!;
    const syn = firstSeg(c, (s) => s.from === 'client' && (s.flags & (SYN | ACK)) === SYN);
    const synAck = firstSeg(c, (s) => s.from === 'server' && (s.flags & (SYN | ACK)) === (SYN | ACK));
    const ack = firstSeg(c, (s) => s.from === 'client' && s.packet > synAck.packet && (s.flags & (SYN | ACK)) === ACK);
    const afterAck = c.segments.find((s) => s.packet > ack.packet)!;
    // The measured clock error, plus the pcap's microsecond truncation and float rounding.
    const tol = k.clock.errorUs / 1e6 + 2e-6;
    expect(k.clock.errorUs).toBeLessThan(50);

    const client = stateChanges(k, c.client, c.server);
    expect(client.map((e) => e.to).slice(0, 2)).toEqual(['SYN_SENT', 'ESTABLISHED']);
    const [synSent, cEst] = client;
    expect(synSent!.from).toBe('CLOSE');
    expect(synSent!.time).toBeLessThanOrEqual(syn.absTime + tol); // connect() set SYN_SENT, then the SYN left
    expect(syn.absTime - synSent!.time).toBeLessThan(0.1);
    expect(cEst!.time).toBeGreaterThanOrEqual(synAck.absTime - tol); // the SYN-ACK arrived ...
    expect(cEst!.time).toBeLessThanOrEqual(ack.absTime + tol); // ... and the client answered with the ACK

    // Linux keeps the half-open connection as a request socket (not reported); the full socket is
    // born in SYN_RECV when the ACK arrives, and becomes ESTABLISHED at once.
    const server = stateChanges(k, c.server, c.client);
    expect(server.map((e) => `${e.from}->${e.to}`).slice(0, 2)).toEqual(['LISTEN->SYN_RECV', 'SYN_RECV->ESTABLISHED']);
    const [synRecv, sEst] = server;
    expect(synRecv!.time).toBeGreaterThanOrEqual(ack.absTime - tol);
    expect(synRecv!.time).toBeLessThanOrEqual(afterAck.absTime + tol);
    expect(sEst!.time).toBeGreaterThanOrEqual(synRecv!.time);
    // The active closer (the client) goes FIN_WAIT2 -> CLOSE here; its TIME_WAIT is in /proc.
    expect(statePath(k, c.client, c.server)).toEqual(['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSE']);
    const us = (t: number): string => `${((t - syn.absTime) * 1e6).toFixed(1)} µs`;
    console.log(`IPv${family}: SYN_SENT ${us(synSent!.time)}, SYN 0, SYN-ACK ${us(synAck.absTime)}, client ESTABLISHED ${us(cEst!.time)}, ACK ${us(ack.absTime)}, server SYN_RECV ${us(synRecv!.time)}, next packet ${us(afterAck.absTime)}; clock ± ${k.clock.errorUs.toFixed(1)} µs, drift ${k.clock.driftUs?.toFixed(2)} µs, attach ${k.startMs} ms`);

    // The timeline: kernel rows between the packets, with the packet they came after.
    const text = renderTimeline(o);
    expect(text).toMatch(/ client SYN_SENT \(kernel: CLOSE -> SYN_SENT\)/);
    expect(text).toMatch(new RegExp(`server SYN_RECV \\(kernel: LISTEN -> SYN_RECV\\) · \\d+ µs after #${ack.packet}\\b`));
    expect(text).toMatch(/client CLOSE \(kernel: FIN_WAIT2 -> CLOSE\); TIME_WAIT continues in a timewait socket/);
    expect(renderLabOutcome(o, undefined)).toMatch(/kernel events: \d+, none lost; clock ± \d+\.\d µs/);
  });

  it.each([4, 6] as Family[])('IPv%i UDP overflow: SOCKET_RCVBUFF drops name every lost datagram and agree with RcvbufErrors', async (family) => {
    const N = 2000;
    let port = 0;
    let received: number[] = [];
    let jctx: LabJudgeContext | null = null;
    const RECEIVER = `
      const dgram = require('dgram'); const fs = require('fs');
      const s = dgram.createSocket({ type: process.argv[1].includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4096 });
      const got = []; s.on('message', (m) => got.push(m.readUInt32BE(0)));
      s.bind(0, process.argv[1], () => {
        fs.writeSync(1, 'READY ' + s.address().port + '\\n');
        fs.readSync(0, Buffer.alloc(16)); // not reading while the sender blasts: the 4 KiB buffer overflows
        setTimeout(() => { fs.writeSync(1, 'GOT ' + got.join(',') + '\\n'); process.exit(0); }, 300);
      });`;
    // Sent out of order in blocks (0-999, 1500-1999, 1000-1499) so the kernel's folding of
    // consecutive drops into runs is closed by a gap twice and left open at exit once.
    const SENDER = `
      const dgram = require('dgram'); const [host, port, n] = process.argv.slice(1);
      const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4'); let done = 0;
      const order = [...Array(1000).keys(), ...Array.from({ length: 500 }, (_, i) => 1500 + i), ...Array.from({ length: 500 }, (_, i) => 1000 + i)];
      for (const i of order) { const b = Buffer.alloc(100); b.writeUInt32BE(i, 0);
        s.send(b, Number(port), host, () => { if (++done === Number(n)) { console.log('SENT ' + done); s.close(); } }); }`;
    const o = await runLab(
      lab({
        async run(ctx) {
          const addr = ctx.addr('server');
          const rcv = ctx.sandbox.spawn('server', ['node', '-e', RECEIVER, addr], { stdio: ['pipe', 'pipe', 'pipe'] });
          port = Number((await waitLine(rcv, /READY (\d+)/))[1]);
          const snd = ctx.sandbox.spawn('client', ['node', '-e', SENDER, addr, String(port), String(N)], { stdio: ['ignore', 'pipe', 'pipe'] });
          await waitLine(snd, /SENT (\d+)/);
          await waitExit(snd);
          rcv.stdin!.write('go\n');
          const got = (await waitLine(rcv, /GOT ([\d,]*)\n/))[1]!;
          received = got ? got.split(',').map(Number) : [];
          await waitExit(rcv);
        },
        facts: keep((ctx) => (jctx = ctx)),
      }),
      { family, params: {}, outDir: outDir(), kernelHub: await sharedHub() },
    );
    expect(o.verdict, o.reason ?? '').toBe('pass');
    const k = available(jctx!.kernelEvents);
    const dst = family === 6 ? `[::1]:${port}` : `127.0.0.1:${port}`;
    const lost = drops(k, { dst });
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(N);
    expect(dropTotal(lost)).toBe(N - received.length);
    expect(new Set(lost.map((d) => d.reason))).toEqual(new Set(['SOCKET_RCVBUFF']));
    // Where it died, named from /proc/kallsyms; where the kernel hides its addresses from us (a container
    // without CAP_SYSLOG reads them as zeros) the location stays a hex address.
    if (kallsymsHidden()) expect(lost[0]!.location).toMatch(/^0x[0-9a-f]+$/);
    else expect(lost[0]!.location).toMatch(/udp/);
    // every datagram is either received or named by a drop, never both
    const named = lost.flatMap((d) => datagramNumbers(d));
    const all = [...named, ...received].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: N }, (_, i) => i));
    // the counters agree: the kernel's own (never lost) and the namespace's SNMP counter
    const rcvbuf = jctx!.observation.delta[family === 6 ? 'Udp6.RcvbufErrors' : 'Udp.RcvbufErrors'];
    expect(rcvbuf).toBe(named.length);
    expect(k.dropCounts.filter((d) => d.reason === 'SOCKET_RCVBUFF').reduce((s, d) => s + d.count, 0)).toBe(named.length);
    expect(k.lost).toBe(0);
    expect(k.emitted.run).toBe(2); // two runs closed by a gap; the third was open at exit
    console.log(`IPv${family} UDP: ${received.length} of ${N} received, ${named.length} drops SOCKET_RCVBUFF in ${lost[0]!.location} as ${lost.length} event(s) (${k.emitted.drop} full lines, ${k.emitted.run ?? 0} run lines), RcvbufErrors +${rcvbuf}, first lost datagrams ${named.slice(0, 5).join(', ')}`);
  });
});

describe.skipIf(!canRun)('kernel events: retransmissions and netfilter drops (needs root and bpftrace)', () => {
  beforeAll(async () => void (await sharedHub()), 300_000);
  it('a dropped SYN and a dropped SYN-ACK: NETFILTER_DROP events, then the SYN and SYN-ACK retransmissions at the resent packets', async () => {
    let jctx: LabJudgeContext | null = null;
    const o = await runLab(
      lab({
        async run(ctx) {
          // Armed before the connection; each drops at the receiver's input, so the server's capture sees both.
          await ctx.fault('first-syn', { at: 'server', match: { proto: 'tcp', tcp: 'syn' }, drop: { nth: 1 } });
          await ctx.fault('first-syn-ack', { at: 'client', match: { proto: 'tcp', tcp: 'syn-ack' }, drop: { nth: 1 } });
          await tcpEcho(ctx.sandbox, 4);
        },
        facts: keep((ctx) => (jctx = ctx)),
      }),
      { family: 4, params: {}, outDir: outDir(), kernelHub: await sharedHub() },
    );
    expect(o.verdict, o.reason ?? '').toBe('pass');
    // each runtime fault dropped exactly its first match, at the receiver
    expect([...o.faults].sort((a, b) => a.name.localeCompare(b.name))).toEqual([{ name: 'first-syn', dropped: 1 }, { name: 'first-syn-ack', dropped: 1 }]);
    const k = available(jctx!.kernelEvents);
    const c = jctx!.analysis.tcp[0]!;
    const tol = k.clock.errorUs / 1e6 + 2e-6;
    const syns = c.segments.filter((s) => s.from === 'client' && (s.flags & (SYN | ACK)) === SYN);
    const synAcks = c.segments.filter((s) => s.from === 'server' && (s.flags & (SYN | ACK)) === (SYN | ACK));
    // Linux retransmits a SYN every second at first (tcp_syn_linear_timeouts), so the client's timer
    // and the server's SYN-ACK timer may both fire: count what the capture shows.
    expect(syns.length).toBeGreaterThanOrEqual(2);
    expect(synAcks.length).toBeGreaterThanOrEqual(2);
    const nf = drops(k, { reason: 'NETFILTER_DROP' });
    expect(nf.map((d) => [d.proto, d.seq, d.tcpFlags])).toEqual([
      ['tcp', syns[0]!.seq, SYN],
      ['tcp', synAcks[0]!.seq, SYN | ACK],
    ]);
    expect(nf[0]!.dst).toBe(c.server);
    // Each resent SYN is a retransmit event of the client's socket in SYN_SENT, with the ISN, just
    // before the capture saw it (the event fires before the segment is handed to the device).
    const rtx = k.events.filter((e) => e.kind === 'retransmit');
    expect(rtx.map((e) => e.kind === 'retransmit' && [e.state, e.seq, e.local, e.remote])).toEqual(syns.slice(1).map(() => ['SYN_SENT', syns[0]!.seq, c.client, c.server]));
    // "just before": usually under 100 µs, measured up to 345 µs when the machine is busy; resends are
    // a second apart, so 5 ms still names exactly one packet.
    const near = (t: number, packet: number): boolean => t <= packet + tol && t >= packet - tol - 5e-3;
    rtx.forEach((e, i) => expect(near(e.time, syns[i + 1]!.absTime), `retransmit ${i} at ${e.time} vs SYN ${syns[i + 1]!.absTime}`).toBe(true));
    // Each resent SYN-ACK (by the timer, or answering a resent SYN) is a synack-retransmit event.
    const sa = k.events.filter((e) => e.kind === 'synack-retransmit');
    expect(sa.map((e) => e.kind === 'synack-retransmit' && [e.local, e.remote])).toEqual(synAcks.slice(1).map(() => [c.server, c.client]));
    sa.forEach((e, i) => expect(near(e.time, synAcks[i + 1]!.absTime), `SYN-ACK retransmit ${i} at ${e.time} vs ${synAcks[i + 1]!.absTime}`).toBe(true));
    console.log(`SYN retransmit ${((rtx[0]!.time - syns[1]!.absTime) * 1e6).toFixed(1)} µs from the second SYN, SYN-ACK retransmit ${((sa[0]!.time - synAcks[1]!.absTime) * 1e6).toFixed(1)} µs from the second SYN-ACK; drops in ${nf.map((d) => d.location).join(', ')}`);
  });
});

describe.skipIf(!canRun)('kernel events: isolation (needs root and bpftrace)', () => {
  it("two labs in parallel in one run share one bpftrace and each see only their own events; the host's mounts, namespaces and rules are unchanged", async () => {
    const sharedPid = hub?.pid ?? null;
    const mountsBefore = hostMounts();
    const hostBefore = host();
    const tracefsBefore = /\s\/sys\/kernel\/tracing\s/.test(mountsBefore);
    // A host-namespace connection during the labs: it must appear in neither lab's events.
    const hostSrv = net.createServer((c) => c.end()).listen(0, '127.0.0.1');
    await new Promise((r) => hostSrv.once('listening', r));
    const hostPort = (hostSrv.address() as net.AddressInfo).port;
    const seen: Record<string, { ports: number[]; netns: string[]; k: KernelEvents | null; mountsDuring: string; bpftraces: number[] }> = {};
    const runHub = startKernelEventHub();
    // the file's shared bpftrace (the earlier tests') is still alive: count only the others
    const bpftracesNow = (): number[] => [...bpftracesOf(process.pid)].filter((pid) => pid !== sharedPid);
    const mk = (name: string, topology: LabDefinition['topology']): LabDefinition =>
      lab({
        name,
        topology,
        async run(ctx) {
          const netns = ctx.sandbox.roles.map((r) => ctx.sandbox.host(r).netns);
          const a = await tcpEcho(ctx.sandbox, 4);
          const b = await tcpEcho(ctx.sandbox, 4);
          await new Promise<void>((resolve, reject) => net.connect(hostPort, '127.0.0.1').on('close', () => resolve()).on('error', reject).resume());
          seen[name] = { ports: [a.port, b.port], netns, k: null, mountsDuring: hostMounts(), bpftraces: bpftracesNow() };
        },
        facts: keep((ctx) => (seen[name]!.k = ctx.kernelEvents)),
      });
    try {
      // the run's bpftrace is compiled before the labs (a lab alone waits at most 30 s for it: a busy machine takes longer)
      expect(await runHub.ready()).toBeNull();
      const outs = await runLabs([mk('kev-a', { kind: 'veth' }), mk('kev-b', { kind: 'loopback' })], { family: 4, params: {}, outDir: outDir(), concurrency: 2, kernelHub: runHub });
      for (const o of outs) expect(o.verdict, `${o.lab}: ${o.reason}`).toBe('pass');
    } finally {
      hostSrv.close();
      await runHub.close();
    }
    // one bpftrace, the run's, served both labs
    expect(seen['kev-a']!.bpftraces).toEqual([runHub.pid]);
    expect(seen['kev-b']!.bpftraces).toEqual([runHub.pid]);
    expect(bpftracesNow()).toEqual([]);
    for (const [name, other] of [['kev-a', 'kev-b'], ['kev-b', 'kev-a']] as const) {
      const k = available(seen[name]!.k!);
      expect(k.events.length).toBeGreaterThan(0);
      expect(new Set(k.events.map((e) => e.netns)).size).toBeGreaterThan(0);
      for (const e of k.events) expect(seen[name]!.netns).toContain(e.netns);
      const ports = new Set(k.events.flatMap((e) => ('local' in e ? [e.local, e.remote] : [e.src, e.dst])).map((ep) => Number(ep?.slice(ep.lastIndexOf(':') + 1))));
      for (const p of seen[name]!.ports) expect(ports.has(p), `${name} sees its own port ${p}`).toBe(true);
      expect(ports.has(hostPort), `${name} must not see the host's port ${hostPort}`).toBe(false);
      for (const p of seen[other]!.ports.filter((x) => !seen[name]!.ports.includes(x))) expect(ports.has(p), `${name} must not see ${other}'s port ${p}`).toBe(false);
      // while bpftrace ran, tracefs was mounted only in its private mount namespace
      expect(/\s\/sys\/kernel\/tracing\s/.test(seen[name]!.mountsDuring)).toBe(tracefsBefore);
      expect(seen[name]!.mountsDuring).toBe(mountsBefore);
    }
    expect(hostMounts()).toBe(mountsBefore);
    expect(host()).toEqual(hostBefore);
    // and this process's namespaces are gone
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`/run/netns/wirelab-${process.pid}-`);
  }, 240_000); // bpftrace's compile alone took over 30 s at a load average of 90
});

describe.skipIf(!canRun)('kernel events: a killed run (needs root and bpftrace)', () => {
  const bpftraces = (): Set<number> => {
    const out = new Set<number>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'bpftrace') out.add(Number(d));
      } catch {
        // gone
      }
    }
    return out;
  };

  it('a SIGKILLed run leaves no bpftrace behind (it ends with its parent)', async () => {
    const before = bpftraces();
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures/kernel-events-child.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let netns = '';
    try {
      netns = (await waitLine(child, /READY (\S+)/, 60_000))[1]!;
      const ours = [...bpftraces()].filter((p) => !before.has(p) && readFileSync(`/proc/${p}/status`, 'utf8').includes(`PPid:\t${child.pid}\n`));
      expect(ours).toHaveLength(1);
      child.kill('SIGKILL');
      const deadline = Date.now() + 15_000;
      while (existsSync(`/proc/${ours[0]}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const left = existsSync(`/proc/${ours[0]}`) ? readFileSync(`/proc/${ours[0]}/stat`, 'utf8').split(' ')[2] : 'gone';
      expect(left === 'gone' || left === 'Z', `bpftrace ${ours[0]} is still ${left}`).toBe(true);
    } finally {
      child.kill('SIGKILL');
      // the killed run's namespace (a later run's stale cleanup may have removed it already)
      if (netns) spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    }
  });
});

describe.skipIf(!isRoot)('kernel events: missing (needs root)', () => {
  const saved = process.env.WIRELAB_BPFTRACE;
  afterEach(() => {
    if (saved === undefined) delete process.env.WIRELAB_BPFTRACE;
    else process.env.WIRELAB_BPFTRACE = saved;
  });

  it('without bpftrace the lab still runs on /proc and counters, and its report says what was missing and the fix', async () => {
    process.env.WIRELAB_BPFTRACE = '/nonexistent/bpftrace';
    let jctx: LabJudgeContext | null = null;
    const o = await runLab(lab({ run: async (ctx) => void (await tcpEcho(ctx.sandbox, 4)), facts: keep((ctx) => (jctx = ctx)) }), { family: 4, params: {}, outDir: outDir() });
    expect(o.verdict, o.reason ?? '').toBe('pass');
    expect(jctx!.kernelEvents).toMatchObject({ available: false, missing: expect.stringMatching(/bpftrace is not installed/), fix: expect.stringMatching(/apt-get install bpftrace/) });
    expect(o.timeline.length).toBeGreaterThan(0);
    expect(o.timeline.every((r) => r.kind === 'packet')).toBe(true);
    expect(jctx!.observation.samples.length).toBeGreaterThan(0);
    expect(renderLabOutcome(o, undefined)).toMatch(/kernel events: missing \(bpftrace is not installed.*\); fix: apt-get install bpftrace.*states are \/proc samples every 10 ms/);
  });
});
