/**
 * The two queues of a listening socket: a half-open request (SYN_RCVD) held while its third
 * segment is kept away, then an accept queue filled by a listener that does not accept (its
 * Recv-Q), the next client's SYN dropped and retransmitted (ListenOverflows, ListenDrops), and that
 * client let in once the application accepts one connection.
 */
import { check, connFacts, defineLab, delta, secs, TcpState } from '../../../src/lab/index.js';
import type { SocketEntry } from '../../../src/observe/types.js';

const listening = (local: string) => (s: SocketEntry): boolean => s.local === local && s.state === 'LISTEN';

export default defineLab({
  name: 'queues',
  title: 'The SYN queue and the accept queue: a listener that does not accept',
  topic: 'tcp/open',
  seconds: 4,
  needs: ['root', 'tcpdump', 'nft', 'python3'],
  topology: { kind: 'veth' },
  params: {
    backlog: { type: 'int', default: 2, min: 1, max: 16, help: 'the listen() backlog: the accept queue holds backlog + 1 connections on Linux' },
  },
  explanation: `A listening socket has two queues. A SYN creates a request (SYN_RCVD; ss says SYN-RECV) in the half-open
queue; the third segment turns it into a full connection in the accept queue, where it waits for
accept(). Here the listener is a small Python program (node:net accepts every connection at once, so
its queue never fills) that accepts nothing until told. First the client's ACK is dropped for a while:
the request sits in SYN_RCVD and the accept queue stays empty. Then clients connect until the accept
queue is full: the listener's Recv-Q in /proc/net/tcp counts the waiting connections (backlog + 1 on
Linux). The next client's SYN is dropped (TcpExt ListenOverflows and ListenDrops count it) and its
kernel retransmits the SYN; when the application accepts one connection there is room, and the next
retransmitted SYN gets in.`,

  async run(ctx) {
    const backlog = ctx.params.backlog;
    const srv = ctx.program('server', 'listener.py', { host: ctx.addr('server'), port: 0, backlog }, 'listener');
    const port = Number((await srv.next('listening')).port);
    const listener = ctx.endpoint('server', port);
    ctx.mark('port', { port });
    // 1. A half-open request: the client's pure ACKs are dropped until the request was seen.
    const noAck = await ctx.fault('no-third-ack', { at: 'server', match: { from: 'client', dport: port, tcp: 'pure-ack' } });
    const half = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port }, 'half-open');
    await ctx.waitForSocket('server', (s) => s.state === TcpState.SYN_RCVD && s.local === listener, 10_000);
    ctx.mark('half-open seen');
    await noAck.disarm(); // its next ACK (answering the SYN-ACK retransmission) completes it
    // 2. Fill the accept queue: backlog + 1 connections in all.
    for (let i = 1; i <= backlog; i++) {
      const c = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port }, `fill-${i}`);
      await c.next('connected');
    }
    await half.next('connected');
    const full = await ctx.waitForSocket('server', (s) => listening(listener)(s) && s.rxQueue >= backlog + 1, 10_000);
    ctx.mark('accept queue full', { rxQueue: full.rxQueue });
    const before = await ctx.counters('server');
    // 3. The next client: its SYN is dropped, its kernel retransmits it.
    const late = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port }, 'late');
    const lateSock = await ctx.waitForSocket('client', (s) => s.state === TcpState.SYN_SENT && s.remote === listener && s.retransmits >= 1, 10_000);
    const after = await ctx.counters('server');
    ctx.mark('late client retransmitted its SYN', {
      retransmits: lateSock.retransmits,
      overflows: (after['TcpExt.ListenOverflows'] ?? 0) - (before['TcpExt.ListenOverflows'] ?? 0),
      drops: (after['TcpExt.ListenDrops'] ?? 0) - (before['TcpExt.ListenDrops'] ?? 0),
    });
    // 4. The application accepts one: room in the queue, the next SYN gets in.
    ctx.mark('accept one');
    srv.send({ do: 'accept' });
    await srv.next('accepted');
    await late.next('connected', 10_000);
  },

  facts(ctx, setup) {
    const port = Number(ctx.mark('port')?.data?.port);
    const full = ctx.mark('accept queue full');
    const lateMark = ctx.mark('late client retransmitted its SYN');
    const acceptMark = ctx.mark('accept one');
    if (!setup.expect('the accept queue filled and the late client retransmitted its SYN', !!(full && lateMark && acceptMark), [!!full, !!lateMark])) return null;
    const conns = ctx.connectionsTo(port).map(connFacts);
    const backlog = ctx.params.backlog;
    if (!setup.expect(`backlog + 2 = ${backlog + 2} connections were captured`, conns.length === backlog + 2, conns.length, backlog + 2)) return null;
    const late = conns.reduce((a, b) => ((a.handshake.syn?.time ?? 0) > (b.handshake.syn?.time ?? 0) ? a : b));
    const lateSyns = late.handshake.syn ? [late.handshake.syn, ...late.handshake.synRetransmits] : [];
    const admitted = late.handshake.synAck;
    return {
      port, conns, late, lateSyns, admitted,
      rxQueue: Number(full!.data!.rxQueue),
      overflows: Number(lateMark!.data!.overflows), drops: Number(lateMark!.data!.drops),
      halfOpenSeen: ctx.mark('half-open seen'),
      acceptAt: acceptMark!.t,
      runOverflows: delta(ctx.observations.server, 'TcpExt.ListenOverflows'),
    };
  },

  claims: {
    H09: (f, ctx) => {
      const backlog = ctx.params.backlog;
      // Every SYN but the one the SYN-ACK answered was dropped.
      const dropped = f.admitted ? f.lateSyns.slice(0, -1) : f.lateSyns;
      const admittedAfterAccept = f.admitted !== null && f.admitted.absTime >= f.acceptAt;
      return {
        checks: [
          check.ok('a request sat in SYN_RCVD (the half-open queue) while its third segment was dropped', f.halfOpenSeen !== null, f.halfOpenSeen !== null, true),
          check.eq(`the listener's Recv-Q (the accept queue) reached backlog + 1 = ${backlog + 1}`, f.rxQueue, backlog + 1),
          check.ok('the late client had to send its SYN more than once (the first was dropped)', dropped.length >= 1 && f.lateSyns.length >= 2, f.lateSyns.map((s) => s.packet), '>= 2 SYNs', f.lateSyns.map((s) => s.packet)),
          check.near('the late client resent its SYN after about 1 s (the initial RTO; tcp_syn_linear_timeouts keeps later ones at 1 s too)', f.lateSyns[1] ? f.lateSyns[1].time - f.lateSyns[0]!.time : null, 1, { abs: 0.15 }, f.lateSyns.slice(0, 2).map((s) => s.packet)),
          check.ok('TcpExt.ListenOverflows rose while the queue was full', f.overflows >= 1, f.overflows, '>= 1'),
          check.ok('TcpExt.ListenDrops rose with it', f.drops >= f.overflows && f.drops >= 1, f.drops, `>= ${f.overflows}`),
          check.ok('the late client got its SYN-ACK only after the application accepted a connection', admittedAfterAccept, f.admitted?.packet ?? null, 'a SYN-ACK after accept()', [f.admitted?.packet]),
        ],
        evidence: `with backlog ${backlog} the listener's Recv-Q reached ${f.rxQueue} waiting connections; a request was seen in SYN_RCVD while its ACK was dropped; ` +
          `the next client's SYN was dropped ${dropped.length} time(s) (ListenOverflows +${f.overflows}, ListenDrops +${f.drops}) and retransmitted at ${f.lateSyns.slice(1).map((s) => secs(s.time - f.lateSyns[0]!.time)).join(', ')}; ` +
          `after one accept() its next SYN got a SYN-ACK (packet ${f.admitted?.packet})`,
      };
    },
  },

  story: (f, ctx) =>
    `backlog ${ctx.params.backlog} let ${f.rxQueue} finished connections wait in the accept queue (Linux admits backlog + 1). Nothing is refused when it is full: ` +
    `the server's kernel silently drops the SYN (ListenOverflows +${f.overflows}) and the client's kernel, seeing no answer, sends it again ` +
    `(${f.lateSyns.length} SYNs in all). The client waits, it is not told "no"; as soon as the application called accept() once, the next SYN found room.`,
});
