/**
 * Why three segments: an old duplicate SYN, crafted and injected from the client host. For a
 * 4-tuple nobody uses, the server answers SYN-ACK and the client's kernel, which never asked,
 * answers RST: the half-open entry goes away. For the 4-tuple of a live connection, the server
 * answers a challenge ACK (RFC 5961) and the connection lives on.
 */
import { check, defineLab, delta, isRst, isSynAck, ms, type Step, connFacts } from '../../../src/lab/index.js';

export default defineLab({
  name: 'stale-syn',
  title: 'An old duplicate SYN: refused by the client, harmless to a live connection',
  topic: 'tcp/open',
  seconds: 2,
  needs: ['root', 'tcpdump'],
  topology: { kind: 'veth' },
  explanation: `Suppose a SYN from an earlier connection attempt wanders the network and arrives late. The
server cannot tell it from a new one and answers SYN-ACK. With a two-way handshake the server would now
count the connection as open, keep its resources and perhaps start sending to a client that never
asked. With three, the SYN-ACK reaches the client's kernel, which has no such connection and answers
RST; the server drops the half-open entry and nothing was opened. Here the stale SYN is crafted (a raw
IP packet from the client host: no socket sends a SYN on a 4-tuple it does not own). A second stale
SYN is aimed at the 4-tuple of a live connection: RFC 5961 has the server answer with a "challenge"
ACK (it does not reset anything), the client's kernel sees an ACK that fits its connection, and the
connection carries on.`,

  async run(ctx) {
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 });
    const port = Number((await server.next('listening')).port);
    // 1. A stale SYN on an unused 4-tuple: a client port no socket holds.
    const unused = 20000 + Math.floor(Math.random() * 10000);
    const table = await ctx.waitForSockets('client', () => true, 1000);
    if (table.some((s) => s.local.endsWith(`:${unused}`))) throw new Error(`port ${unused} is in use in the client namespace`);
    const staleSeq = Math.floor(Math.random() * 2 ** 32);
    ctx.mark('stale syn, unused tuple', { port, unused, seq: staleSeq });
    await ctx.craft('client', [{ src: ctx.addr('client'), dst: ctx.addr('server'), sport: unused, dport: port, seq: staleSeq, flags: ['SYN'], mss: 1460 }]);
    // The client kernel's RST removes the server's request: wait until no request for it is left.
    const remote = ctx.endpoint('client', unused);
    await ctx.waitForSockets('server', (all) => !all.some((s) => s.remote === remote), 3000);
    // 2. A live connection, then a stale SYN on its 4-tuple.
    const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port });
    const live = Number((await client.next('connected')).port);
    await server.next('accepted');
    const stale2 = Math.floor(Math.random() * 2 ** 32);
    ctx.mark('stale syn, live tuple', { live, seq: stale2 });
    const before = await ctx.counters('server');
    await ctx.craft('client', [{ src: ctx.addr('client'), dst: ctx.addr('server'), sport: live, dport: port, seq: stale2, flags: ['SYN'], mss: 1460 }]);
    // The connection lives on: data still goes through, in both directions.
    client.send({ do: 'write', bytes: 100 });
    await server.next('data');
    const after = await ctx.counters('server');
    ctx.mark('challenge counters', { challenge: (after['TcpExt.TCPSYNChallenge'] ?? 0) - (before['TcpExt.TCPSYNChallenge'] ?? 0) });
    server.send({ do: 'write', bytes: 10 });
    await client.next('data');
    client.send({ do: 'end' });
    await server.next('end');
    server.send({ do: 'end' });
    await client.next('closed');
  },

  facts(ctx, setup) {
    const m1 = ctx.mark('stale syn, unused tuple')?.data as { port: number; unused: number; seq: number } | undefined;
    const m2 = ctx.mark('stale syn, live tuple')?.data as { live: number; seq: number } | undefined;
    if (!setup.expect('both stale SYNs were sent', !!(m1 && m2), [!!m1, !!m2])) return null;
    const conns = ctx.connectionsTo(m1!.port);
    // Every captured segment on each 4-tuple, whatever connection the analysis filed it under.
    const on = (clientPort: number): Step[] => conns.filter((c) => c.clientPort === clientPort).flatMap((c) => connFacts(c).segments).sort((a, b) => a.packet - b.packet);
    const u = on(m1!.unused);
    const l = on(m2!.live);
    const staleSyn = u.find((s) => s.from === 'client' && s.seq === m1!.seq && (s.flags & 0x12) === 0x02) ?? null;
    const staleSynLive = l.find((s) => s.from === 'client' && s.seq === m2!.seq && (s.flags & 0x12) === 0x02) ?? null;
    if (!setup.expect('the capture holds both crafted SYNs', !!(staleSyn && staleSynLive), [staleSyn?.packet, staleSynLive?.packet])) return null;
    const synAck = u.find((s) => s.from === 'server' && isSynAck(s)) ?? null;
    const rst = u.find((s) => s.from === 'client' && isRst(s)) ?? null;
    const answer = l.find((s) => s.from === 'server' && s.packet > staleSynLive!.packet) ?? null;
    const later = l.filter((s) => s.packet > (answer?.packet ?? Infinity));
    return {
      m1: m1!, m2: m2!, unusedSegs: u, staleSyn: staleSyn!, synAck, rst, staleSynLive: staleSynLive!, answer,
      laterData: later.filter((s) => s.len > 0), laterRst: l.filter((s) => isRst(s)),
      challenge: Number(ctx.mark('challenge counters')?.data?.challenge ?? 0),
      attemptFails: delta(ctx.observations.server, 'Tcp.AttemptFails'),
      accepted: ctx.program('tcp-peer').messages.filter((m) => m.event === 'accepted').length,
    };
  },

  claims: {
    H08: (f) => ({
      checks: [
        check.ok('the server answered the stale SYN with a SYN-ACK (ack = its seq + 1)', !!f.synAck && f.synAck.ack === ((f.staleSyn.seq + 1) >>> 0), f.synAck?.ack ?? null, (f.staleSyn.seq + 1) >>> 0, [f.staleSyn.packet, f.synAck?.packet]),
        check.ok("the client's kernel, which never sent that SYN, answered RST", !!f.rst && !!f.synAck && f.rst.packet > f.synAck.packet && f.rst.seq === f.synAck.ack, f.rst ? [f.rst.packet, f.rst.seq] : null, ['after the SYN-ACK', f.synAck?.ack], [f.rst?.packet]),
        check.within("the RST came straight back (within 50 ms of the SYN-ACK): the client's kernel answered, no application was asked", f.rst && f.synAck ? f.rst.time - f.synAck.time : null, 0, 0.05, [f.synAck?.packet, f.rst?.packet]),
        check.ok('the server counted a failed connection attempt (Tcp.AttemptFails)', f.attemptFails >= 1, f.attemptFails, '>= 1'),
        check.eq('the application accepted only the real connection', f.accepted, 1),
        check.ok('on the live 4-tuple the server answered the stale SYN with a plain ACK (a challenge ACK), no SYN-ACK', !!f.answer && (f.answer.flags & 0x16) === 0x10, f.answer ? f.answer.flags : null, 'ACK only', [f.staleSynLive.packet, f.answer?.packet]),
        check.ok('TcpExt.TCPSYNChallenge rose', f.challenge >= 1, f.challenge, '>= 1'),
        check.ok('the live connection went on: data flowed after the stale SYN, no RST', f.laterData.length >= 2 && f.laterRst.length === 0, [f.laterData.length, f.laterRst.length], ['>= 2 data segments', 0], f.laterData.map((s) => s.packet)),
      ],
      evidence: `a crafted SYN for the unused port ${f.m1.unused} (packet ${f.staleSyn.packet}) drew a SYN-ACK (packet ${f.synAck?.packet}); the client's kernel answered RST (packet ${f.rst?.packet}) ${ms(f.rst && f.synAck ? f.rst.time - f.synAck.time : null)} later, ` +
        `the server dropped the half-open entry (Tcp.AttemptFails +${f.attemptFails}) and no connection reached the application; ` +
        `a crafted SYN on the live connection's 4-tuple (packet ${f.staleSynLive.packet}) drew a challenge ACK (packet ${f.answer?.packet}, TCPSYNChallenge +${f.challenge}) and the connection carried ${f.laterData.length} more data segments`,
    }),
  },

  story: (f) =>
    `The stale SYN looked like any other, so the server answered it. Had one SYN and one SYN-ACK been enough, the server would now hold an open connection to port ${f.m1.unused} ` +
    `that nobody wanted. The third segment is the client's vote: its kernel had no such connection and voted no with RST ${ms(f.rst && f.synAck ? f.rst.time - f.synAck.time : null)} after the SYN-ACK, ` +
    `and the server forgot the request. A stale SYN on a live connection's 4-tuple only drew a challenge ACK: the connection was not reset.`,
});
