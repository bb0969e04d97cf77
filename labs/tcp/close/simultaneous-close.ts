/**
 * Both sides close at once. Two connections: A, where both applications call end() in the same
 * instant and nothing is dropped (on a link with a 0.1 ms round trip the first FIN arrives before
 * the other side sends its own: an ordinary close), and B, where faults make the FINs cross: each
 * side's first FIN is dropped at the other's input, then the ACKs of the next copies, so each side
 * receives the other's FIN while its own is unacknowledged: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on
 * both sides, seen in the capture, in /proc and in the kernel's own state changes.
 */
import { check, connFacts, defineLab, isFin, observedStates, secs, stateTrail, TcpState, type ConnFacts } from '../../../src/lab/index.js';
import { stateChanges } from '../../../src/observe/index.js';

const KERNEL = { FIN_WAIT_1: 'FIN_WAIT1', CLOSING: 'CLOSING' } as const;

export default defineLab({
  name: 'simultaneous-close',
  title: 'Simultaneous close: both FINs cross, both sides go CLOSING, both hold TIME_WAIT',
  topic: 'tcp/close',
  seconds: 4,
  needs: ['root', 'tcpdump', 'nft'],
  topology: { kind: 'veth' },
  timeoutMs: 40_000,
  explanation: `In the state diagram, a side in FIN_WAIT_1 (it sent FIN, not yet acknowledged) that receives
the other side's FIN goes to CLOSING; when its own FIN is acknowledged it goes to TIME_WAIT. If both
sides close at once, both take that path and both hold TIME_WAIT. "At once" means within one trip
across the network: connection A has both applications call end() in the same instant, but on this
veth link (round trip ~0.1 ms) one FIN arrives before the other side's kernel sends its own, so that
side answers from CLOSE_WAIT and the close is ordinary. Connection B makes the FINs cross: nftables
drops each side's first FIN at the other's input (both sockets sit in FIN_WAIT_1), then, while the
next copies pass, drops the ACKs they draw, so each side receives the other's FIN while its own is
still unacknowledged: both go CLOSING. When the ACK drops stop, the next copies are acknowledged and
both sides enter TIME_WAIT.`,

  async run(ctx) {
    const srvA = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 }, 'server-a');
    const srvB = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 }, 'server-b');
    const portA = Number((await srvA.next('listening')).port);
    const portB = Number((await srvB.next('listening')).port);
    ctx.mark('ports', { portA, portB });
    const a = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port: portA }, 'client-a');
    const b = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port: portB }, 'client-b');
    await a.next('connected');
    const localB = String((await b.next('connected')).local);
    await srvA.next('accepted');
    await srvB.next('accepted');

    // A: both applications close in the same instant, nothing dropped.
    ctx.mark('A: both close');
    a.send({ do: 'end' });
    srvA.send({ do: 'end' });
    await a.next('closed');
    await srvA.next('closed');

    // B: each side's first FIN dropped at the other's input.
    const finToServer = await ctx.fault('fin-to-server', { at: 'server', match: { from: 'client', dport: portB, tcp: 'fin' } });
    const finToClient = await ctx.fault('fin-to-client', { at: 'client', match: { from: 'server', sport: portB, tcp: 'fin' } });
    const serverB = ctx.endpoint('server', portB);
    const inState = (local: string, remote: string, state: string) => (s: { local: string; remote: string; state: string }) => s.local === local && s.remote === remote && s.state === state;
    ctx.mark('B: both close');
    b.send({ do: 'end' });
    srvB.send({ do: 'end' });
    await ctx.waitForSocket('client', inState(localB, serverB, TcpState.FIN_WAIT_1), 5000);
    await ctx.waitForSocket('server', inState(serverB, localB, TcpState.FIN_WAIT_1), 5000);
    await waitFor(async () => (await finToServer.count()) >= 1 && (await finToClient.count()) >= 1, 5000, 'both first FINs dropped');
    // The next copies pass; the ACKs they draw do not, so both sides see a FIN before their own is acknowledged.
    const ackToServer = await ctx.fault('ack-to-server', { at: 'server', match: { from: 'client', dport: portB, tcp: 'pure-ack' } });
    const ackToClient = await ctx.fault('ack-to-client', { at: 'client', match: { from: 'server', sport: portB, tcp: 'pure-ack' } });
    await finToServer.disarm();
    await finToClient.disarm();
    ctx.mark('B: FINs pass');
    await ctx.waitForSocket('client', inState(localB, serverB, TcpState.CLOSING), 10_000);
    await ctx.waitForSocket('server', inState(serverB, localB, TcpState.CLOSING), 10_000);
    await ackToServer.disarm();
    await ackToClient.disarm();
    ctx.mark('B: ACKs pass');
    await ctx.waitForSocket('client', inState(localB, serverB, TcpState.TIME_WAIT), 10_000);
    await ctx.waitForSocket('server', inState(serverB, localB, TcpState.TIME_WAIT), 10_000);
    await b.next('closed');
    await srvB.next('closed');
  },

  facts(ctx, setup) {
    const ports = ctx.mark('ports')?.data as { portA: number; portB: number } | undefined;
    const ca = ctx.connectionsTo(ports?.portA ?? -1);
    const cb = ctx.connectionsTo(ports?.portB ?? -1);
    if (!setup.expect('one connection to each listener was captured', ca.length === 1 && cb.length === 1, [ca.length, cb.length], [1, 1])) return null;
    const A = connFacts(ca[0]!);
    const B = connFacts(cb[0]!);
    const finsOf = (f: ConnFacts, side: 'client' | 'server') => f.segments.filter((s) => s.from === side && isFin(s));
    const cFins = finsOf(B, 'client');
    const sFins = finsOf(B, 'server');
    if (!setup.expect('both sides of B sent FINs', cFins.length > 0 && sFins.length > 0, [cFins.length, sFins.length], '> 0 each')) return null;
    const k = ctx.kernelEvents.available ? ctx.kernelEvents : null;
    const kPath = (local: string, remote: string): string[] => (k ? stateChanges(k, local, remote).filter((e) => e.from !== e.to).map((e) => e.to) : []);
    const kTime = (local: string, remote: string, to: string): number | null => (k ? stateChanges(k, local, remote).find((e) => e.to === to)?.time ?? null : null);
    const obs = { client: ctx.observations.client, server: ctx.observations.server };
    const dropped = Object.fromEntries(ctx.faults.map((x) => [x.name, x.dropped]));
    const afin1 = A.close.firstFin;
    const afin2 = A.close.secondFin;
    return {
      A, B, cFins, sFins, dropped, afin1, afin2,
      aGap: afin1 && afin2 ? afin2.time - afin1.time : null,
      aRtt: A.handshake.syn && A.handshake.synAck && A.handshake.third ? A.handshake.third.time - A.handshake.syn.time : null,
      proc: {
        client: observedStates(obs.client, B.conn.client, B.conn.server),
        server: observedStates(obs.server, B.conn.server, B.conn.client),
      },
      kernel: k
        ? {
            client: kPath(B.conn.client, B.conn.server),
            server: kPath(B.conn.server, B.conn.client),
            closingAt: [kTime(B.conn.client, B.conn.server, KERNEL.CLOSING), kTime(B.conn.server, B.conn.client, KERNEL.CLOSING)],
          }
        : null,
      kernelMissing: ctx.kernelEvents.available ? null : ctx.kernelEvents.missing,
    };
  },

  claims: {
    C11: (f) => {
      const order = (trail: string[], want: string[]): boolean => {
        let i = 0;
        for (const s of trail) if (s === want[i]) i++;
        return i === want.length;
      };
      const want = [TcpState.FIN_WAIT_1, TcpState.CLOSING, TcpState.TIME_WAIT];
      const trail = { client: stateTrail(f.B.conn, 'client'), server: stateTrail(f.B.conn, 'server') };
      const checks = [
        check.eq('the analysis classifies B as a simultaneous close (the FINs crossed)', f.B.conn.close.kind, 'simultaneous', [f.cFins[0]!.packet, f.sFins[0]!.packet]),
        check.eq('the analysis puts TIME_WAIT on both sides of B', f.B.conn.timeWait, 'both'),
        check.ok('analysis: the client went FIN_WAIT_1 -> CLOSING -> TIME_WAIT', order(trail.client, want), trail.client, want),
        check.ok('analysis: the server went FIN_WAIT_1 -> CLOSING -> TIME_WAIT', order(trail.server, want), trail.server, want),
        check.ok('/proc: the client socket was seen in FIN_WAIT_1, CLOSING, TIME_WAIT in that order', order(f.proc.client, want), f.proc.client, want),
        check.ok('/proc: the server socket was seen in FIN_WAIT_1, CLOSING, TIME_WAIT in that order', order(f.proc.server, want), f.proc.server, want),
        check.ok("each side's first FIN was dropped at the other's input", f.dropped['fin-to-server']! >= 1 && f.dropped['fin-to-client']! >= 1, [f.dropped['fin-to-server'], f.dropped['fin-to-client']], '>= 1 each'),
        ...(f.kernel
          ? [
              check.ok('kernel: the client socket went FIN_WAIT1 -> CLOSING', order(f.kernel.client, [KERNEL.FIN_WAIT_1, KERNEL.CLOSING]), f.kernel.client, [KERNEL.FIN_WAIT_1, KERNEL.CLOSING]),
              check.ok('kernel: the server socket went FIN_WAIT1 -> CLOSING', order(f.kernel.server, [KERNEL.FIN_WAIT_1, KERNEL.CLOSING]), f.kernel.server, [KERNEL.FIN_WAIT_1, KERNEL.CLOSING]),
            ]
          : []),
        // Connection A: "at once" in the applications is not "at once" on the wire.
        check.ok('A (nothing dropped): the close was ordinary, not simultaneous', f.A.conn.close.kind !== 'simultaneous', f.A.conn.close.kind, 'three-way or four-way', [f.afin1?.packet, f.afin2?.packet]),
        check.ok('A: only one side held TIME_WAIT', f.A.conn.timeWait === 'client' || f.A.conn.timeWait === 'server', f.A.conn.timeWait, 'one side'),
      ];
      return {
        checks,
        evidence: `B: the client's FIN (packet ${f.cFins[0]!.packet}) and the server's (packet ${f.sFins[0]!.packet}) were both dropped at the other's input; ` +
          `the copies (client ${f.cFins.slice(1).map((s) => s.packet).join(', ')}; server ${f.sFins.slice(1).map((s) => s.packet).join(', ')}) crossed, ` +
          `${f.dropped['ack-to-server']! + f.dropped['ack-to-client']!} ACKs were held back until both sides were CLOSING. ` +
          `/proc showed the client ${f.proc.client.join(' -> ')} and the server ${f.proc.server.join(' -> ')}` +
          (f.kernel ? `; the kernel's own state changes: client ${f.kernel.client.join(' -> ')}, server ${f.kernel.server.join(' -> ')} (its TIME_WAIT lives in a separate timewait socket)` : ` (kernel events: ${f.kernelMissing})`) +
          `. A: both applications closed in the same instant, yet the FINs were ${secs(f.aGap, 4)} apart against a ${secs(f.aRtt, 4)} handshake round trip: a ${f.A.conn.close.kind} close, TIME_WAIT on the ${f.A.conn.timeWait} only`,
        differs: {
          textbook: 'both sides closing at once go through CLOSING and both end in TIME_WAIT',
          linux: 'they do, but only when each FIN arrives before the ACK of the other side\'s: "at once" means within one trip across the network. Applications closing in the same instant on a fast link make an ordinary close',
          measured: `B (FINs made to cross): CLOSING and TIME_WAIT on both sides; A (both end() at once, no faults): FINs ${secs(f.aGap, 4)} apart, round trip ${secs(f.aRtt, 4)}, a ${f.A.conn.close.kind} close`,
        },
      };
    },
  },

  story: (f) =>
    `Connection A shows why a real simultaneous close is rare: both applications called end() in the same instant, but their FINs left ${secs(f.aGap, 4)} apart, ` +
    `far more than the ${secs(f.aRtt, 4)} round trip, so the ${f.A.conn.close.initiator}'s FIN arrived first and the other side answered from CLOSE_WAIT (${f.A.conn.close.kind} close, TIME_WAIT on the ${f.A.conn.timeWait} only). ` +
    `In B the first FINs were lost both ways, so both sockets waited in FIN_WAIT_1 and resent them; each copy reached a side whose own FIN was still unacknowledged: ` +
    `${f.kernel ? `the kernel moved the client to CLOSING at +${secs(f.kernel.closingAt[0] !== null ? f.kernel.closingAt[0] - f.B.segments[0]!.absTime : null, 3)} and the server at +${secs(f.kernel.closingAt[1] !== null ? f.kernel.closingAt[1] - f.B.segments[0]!.absTime : null, 3)} after B's SYN` : 'both went CLOSING'}. ` +
    `Once the ACKs passed, each side's FIN was acknowledged and both entered TIME_WAIT: /proc listed a TIME_WAIT socket in each namespace, both counting down 60 s.`,
});

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
