/**
 * The third segment lost: the server's input drops the client's pure ACKs, so the server sits in
 * SYN_RCVD and resends its SYN-ACK at doubling intervals while the client is already ESTABLISHED.
 * Two clients, two endings: one writes after the first SYN-ACK retransmission (its data carries
 * the ACK and completes the handshake), the other waits until the server gives up (its data meets
 * RST).
 */
import { check, connFacts, defineLab, firstObserved, ms, observedStates, secs, TcpState, type ConnFacts } from '../../../src/lab/index.js';

const isHalfOpen = (local: string, remote: string) => (s: { local: string; remote: string; state: string }) =>
  s.local === local && s.remote === remote && s.state === TcpState.SYN_RCVD;

export default defineLab({
  name: 'lost-third-ack',
  title: 'The third segment lost: SYN-ACK retransmissions, and what becomes of the client\'s data',
  topic: 'tcp/open',
  seconds: 9,
  needs: ['root', 'tcpdump', 'nft'],
  topology: { kind: 'veth' },
  params: {
    synackRetries: { type: 'int', default: 2, min: 1, max: 4, help: 'net.ipv4.tcp_synack_retries in the server namespace: SYN-ACK retransmissions before the server gives up (Linux default 5: 63 s)' },
  },
  sysctls: (p) => ({ 'net.ipv4.tcp_synack_retries': p.synackRetries }),
  timeoutMs: 60_000,
  explanation: `The server's input drops every pure ACK from the client (an nftables rule in the server
namespace, armed once the ports are known), so the third segment of the handshake never arrives. The
client's kernel considers the connection ESTABLISHED as soon as it has sent that ACK; the server's
request stays SYN_RCVD and its kernel resends the SYN-ACK after 1 s, then 2 s, 4 s ... (the initial
RTO, doubled each time) up to tcp_synack_retries times, then drops the half-open entry. Client A writes
after the first retransmission: its data segment carries the same ACK, the server takes it as the
end of the handshake and accept() returns. Client B writes only after the server gave up: the server has
no such connection any more and answers RST, so the client, which believed it was connected, gets
ECONNRESET.`,

  async run(ctx) {
    const srvA = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 }, 'server-a');
    const srvB = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 }, 'server-b');
    const portA = Number((await srvA.next('listening')).port);
    const portB = Number((await srvB.next('listening')).port);
    ctx.mark('ports', { portA, portB });
    // Armed now that the ports are known: every pure ACK to either listener is dropped at the server's input.
    const dropA = await ctx.fault('third-ack-a', { at: 'server', match: { from: 'client', dport: portA, tcp: 'pure-ack' } });
    await ctx.fault('third-ack-b', { at: 'server', match: { from: 'client', dport: portB, tcp: 'pure-ack' } });
    const a = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port: portA }, 'client-a');
    const b = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port: portB }, 'client-b');
    const ca = await a.next('connected');
    const cb = await b.next('connected');
    const remoteA = String(ca.local);
    const remoteB = String(cb.local);
    const listenerA = ctx.endpoint('server', portA);
    const listenerB = ctx.endpoint('server', portB);
    // Ending A: after the server's first SYN-ACK retransmission, the client writes.
    await ctx.waitForSocket('server', (s) => isHalfOpen(listenerA, remoteA)(s) && s.retransmits >= 1, 10_000);
    ctx.mark('client A writes');
    a.send({ do: 'write', bytes: 100 });
    await srvA.next('accepted');
    await srvA.next('data');
    await dropA.disarm(); // A's later ACKs may pass
    // Ending B: the client waits until the server's half-open entry is gone, then writes.
    const limitMs = (2 ** (ctx.params.synackRetries + 1) - 1) * 1000 + 5000;
    await ctx.waitForSockets('server', (all) => !all.some(isHalfOpen(listenerB, remoteB)), limitMs);
    ctx.mark('server B gave up');
    b.send({ do: 'write', bytes: 100 });
    await b.next('error', { where: (m) => m.code === 'ECONNRESET' });
    a.send({ do: 'end' });
    await srvA.next('end');
  },

  facts(ctx, setup) {
    const ports = ctx.mark('ports')?.data as { portA: number; portB: number } | undefined;
    const gaveUp = ctx.mark('server B gave up');
    const ca = ctx.connectionsTo(ports?.portA ?? -1);
    const cb = ctx.connectionsTo(ports?.portB ?? -1);
    if (!setup.expect('one connection to each listener was captured', ca.length === 1 && cb.length === 1, [ca.length, cb.length], [1, 1])) return null;
    const A = connFacts(ca[0]!);
    const B = connFacts(cb[0]!);
    const ok = (f: ConnFacts): boolean => !!(f.handshake.syn && f.handshake.synAck && f.handshake.third);
    if (!setup.expect('both handshakes reached the third segment', ok(A) && ok(B), [A.handshake.third?.packet, B.handshake.third?.packet])) return null;
    const dropped = ctx.faults.reduce((n, f) => n + f.dropped, 0);
    if (!setup.expect('the fault dropped pure ACKs', dropped > 0, dropped, '> 0')) return null;
    const dataA = A.segments.find((s) => s.from === 'client' && s.len > 0) ?? null;
    const dataB = B.segments.find((s) => s.from === 'client' && s.len > 0) ?? null;
    const rstB = B.resets.find((r) => r.from === 'server') ?? null;
    const halfOpenB = firstObserved(ctx.observations.server, ctx.endpoint('server', ports!.portB), TcpState.SYN_RCVD);
    const clientEstB = observedStates(ctx.observations.client, B.conn.client).includes('ESTABLISHED');
    return {
      A, B, dataA, dataB, rstB, dropped, clientEstB, halfOpenB,
      giveUp: gaveUp && B.handshake.synAck ? gaveUp.t - B.handshake.synAck.absTime : null,
      resetB: ctx.program('client-b').messages.find((m) => m.event === 'error') ?? null,
      acceptedA: ctx.program('server-a').messages.some((m) => m.event === 'accepted'),
    };
  },

  claims: {
    H10: (f, ctx) => {
      const n = ctx.params.synackRetries;
      const rB = f.B.handshake.synAckRetransmits;
      const rA = f.A.handshake.synAckRetransmits;
      const expected = Array.from({ length: n }, (_, i) => 2 ** i); // 1, 2, 4 ... s
      const total = 2 ** (n + 1) - 1; // the half-open entry lives 1 + 2 + ... + 2^n s
      return {
        checks: [
          check.eq(`B's SYN-ACK was resent ${n} times (tcp_synack_retries = ${n})`, rB.length, n, rB.map((r) => r.packet)),
          ...rB.map((r, i) => check.near(`B's SYN-ACK retransmission ${i + 1} came ${expected[i]} s after the previous one`, r.interval, expected[i]!, { abs: 0.1, rel: 0.1 }, [r.packet])),
          check.within(`the server dropped B's half-open entry about ${total} s after its first SYN-ACK`, f.giveUp, total - 0.3, total + 1.5),
          check.ok('the client side of B was ESTABLISHED (seen in the client namespace) while the server had no connection', f.clientEstB, f.clientEstB, true),
          check.ok("A's data completed the handshake: the server accepted and read it", f.acceptedA && !!f.dataA, f.dataA?.packet ?? null, 'a data segment, then accept()', [f.dataA?.packet]),
          check.ok("A's SYN-ACK was resent at least once before A wrote", rA.length >= 1, rA.length, '>= 1', rA.map((r) => r.packet)),
          check.ok("B's data met RST from the server", !!f.rstB && !!f.dataB && f.rstB.packet > f.dataB.packet, [f.dataB?.packet, f.rstB?.packet], 'data, then RST', [f.dataB?.packet, f.rstB?.packet]),
          check.eq('client B saw ECONNRESET', f.resetB?.code ?? null, 'ECONNRESET'),
        ],
        evidence: `the server resent its SYN-ACK to B after ${rB.map((r) => secs(r.interval)).join(', ')} (at ${rB.map((r) => secs(r.sinceFirst)).join(', ')} after the first) and dropped the half-open entry ${secs(f.giveUp)} after the first SYN-ACK, ` +
          `while B's client side was ESTABLISHED; B's data (packet ${f.dataB?.packet}) then met RST (packet ${f.rstB?.packet}, ECONNRESET). ` +
          `A wrote after ${rA.length} retransmission(s): its data (packet ${f.dataA?.packet}) carried the ACK and completed the handshake; ${f.dropped} pure ACKs were dropped in all`,
      };
    },
  },

  story: (f, ctx) =>
    `With tcp_synack_retries = ${ctx.params.synackRetries}, the server kept B's half-open entry for ${secs(f.giveUp)} and resent its SYN-ACK ${f.B.handshake.synAckRetransmits.length} times, ` +
    `each time doubling the wait (${f.B.handshake.synAckRetransmits.map((r) => secs(r.interval)).join(', ')}). B's client answered every SYN-ACK with an ACK the server never got. ` +
    `A's first data segment, ${ms(f.dataA && f.A.handshake.synAck ? f.dataA.time - f.A.handshake.synAck.time : null)} after the first SYN-ACK, carried that ACK again and the server accepted it at once; ` +
    `B's data came after the server had forgotten the connection, and RST was the answer: a lost third segment only hurts when the client stays silent longer than the server waits.`,
});
