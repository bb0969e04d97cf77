/**
 * The three-way handshake on a real kernel: a node:net client connects to a node:net server on
 * loopback; the capture shows the SYN, SYN-ACK and ACK with their ISNs, flags and options.
 */
import { check, connFacts, defineLab, enteredBy, ms, observedStates, stateTrail } from '../../../src/lab/index.js';

export default defineLab({
  name: 'handshake',
  title: 'The three-way handshake: SYN, SYN-ACK, ACK with real ISNs',
  topic: 'tcp/open',
  seconds: 1,
  needs: ['root'], // IPv4 runs with the raw-socket backend too; IPv6 needs tcpdump
  topology: { kind: 'loopback' },
  explanation: `connect() makes the client's kernel send a SYN carrying a random initial sequence number
(ISN) x and the client's options (MSS, window scale, SACK, timestamps); the client is now SYN_SENT.
The listening server's kernel answers SYN+ACK: its own random ISN y, ack = x+1 (the SYN consumed one
sequence number though it carried no data), its options; the server side is SYN_RCVD (a request
socket in the SYN queue). The client acknowledges with ack = y+1 and seq = x+1 and is ESTABLISHED; when
that ACK arrives the server's request becomes a full socket in the accept queue, ESTABLISHED, and
accept() returns it.`,

  async run(ctx) {
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 });
    const { port } = await server.next('listening');
    ctx.mark('connect', { port });
    const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port });
    await client.next('connected');
    await server.next('accepted');
    // Some data after the handshake so the first data segment shows seq = x+1 (relative 1).
    client.send({ do: 'write', bytes: 100 });
    await server.next('data');
    client.send({ do: 'end' });
    await server.next('end');
    server.send({ do: 'end' });
    await client.next('closed');
    await server.next('closed');
  },

  facts(ctx, setup) {
    const port = Number(ctx.mark('connect')?.data?.port);
    const conns = ctx.connectionsTo(port);
    if (!setup.expect('exactly one TCP connection to the server was captured', conns.length === 1, conns.length, 1)) return null;
    const f = connFacts(conns[0]!);
    const { syn, synAck, third } = f.handshake;
    if (!setup.expect('the capture holds a SYN, a SYN-ACK and the third segment', !!(syn && synAck && third), [syn?.packet, synAck?.packet, third?.packet])) return null;
    const data = f.segments.find((s) => s.from === 'client' && s.len > 0) ?? null;
    const listener = ctx.endpoint('server', port);
    return { ...f, syn: syn!, synAck: synAck!, third: third!, data, listenerStates: observedStates(ctx.observation, listener) };
  },

  claims: {
    H01: ({ conn, syn }) => ({
      checks: [
        check.eq('the SYN has SYN=1 and ACK=0', [(syn.flags & 0x02) !== 0, (syn.flags & 0x10) !== 0], [true, false], [syn.packet]),
        check.eq('the client went CLOSED -> SYN_SENT on sending the SYN', enteredBy(conn, 'client', 'SYN_SENT'), syn.packet, [syn.packet]),
        check.eq("the analysis reports the SYN's sequence number as the client ISN", conn.handshake.clientIsn, syn.seq, [syn.packet]),
      ],
      evidence: `packet ${syn.packet}: SYN (ACK=0), seq x = ${syn.seq}; the client is SYN_SENT from this segment until the SYN-ACK arrives`,
    }),
    H02: ({ conn, syn, synAck, third }) => ({
      checks: [
        check.eq('the SYN-ACK acknowledges x+1', synAck.ack, (syn.seq + 1) >>> 0, [synAck.packet]),
        check.ok('the server chose its own ISN y (y != x)', synAck.seq !== syn.seq, synAck.seq, `not ${syn.seq}`, [synAck.packet]),
        check.eq('the server went SYN_RCVD when it sent the SYN-ACK', enteredBy(conn, 'server', 'SYN_RCVD'), synAck.packet, [synAck.packet]),
      ],
      evidence: `packet ${synAck.packet}: SYN+ACK, seq y = ${synAck.seq}, ack = ${synAck.ack} = x+1; the server's side lived as a SYN_RCVD request socket (the kernel's SYN_RECV) for ${ms(third.time - syn.time)} (SYN in to ACK in)`,
    }),
    H03: ({ conn, syn, synAck, third }, ctx) => ({
      checks: [
        check.eq('the third segment has seq = x+1 and ack = y+1', [third.seq, third.ack], [(syn.seq + 1) >>> 0, (synAck.seq + 1) >>> 0], [third.packet]),
        check.ok('the client is ESTABLISHED by the third segment', (enteredBy(conn, 'client', 'ESTABLISHED') ?? Infinity) <= third.packet, stateTrail(conn, 'client'), `ESTABLISHED by packet ${third.packet}`, [third.packet]),
        check.eq('the server became ESTABLISHED when the ACK arrived', enteredBy(conn, 'server', 'ESTABLISHED'), third.packet, [third.packet]),
        check.eq('the analysis calls the handshake complete', conn.handshake.complete, true),
      ],
      evidence: `packet ${third.packet}: ACK seq ${third.seq} = x+1, ack ${third.ack} = y+1; handshake RTT ${conn.handshake.rttMs?.toFixed(3)} ms${observedStates(ctx.observation, conn.client).includes('ESTABLISHED') ? '; /proc/net/tcp showed the client socket ESTABLISHED' : ''}`,
    }),
    H04: ({ syn, data }) => ({
      checks: [
        check.eq('the SYN carries no data', syn.len, 0, [syn.packet]),
        check.eq('the first data segment starts at x+1 (relative seq 1)', data ? [data.seq, data.relSeq] : null, [(syn.seq + 1) >>> 0, 1], [data?.packet]),
      ],
      evidence: `the SYN has length 0, yet the SYN-ACK acks x+1 and the first data byte (packet ${data?.packet}) has seq x+1: the SYN consumed one sequence number`,
    }),
    H06: ({ conn, syn, synAck }) => {
      const co = conn.handshake.clientOptions;
      const so = conn.handshake.serverOptions;
      const opt = (o: typeof co, w: number): string =>
        `window ${w}, MSS ${o.mss}${o.wscale !== undefined ? `, wscale ${o.wscale}` : ''}${o.sackPermitted ? ', SACK permitted' : ''}${o.timestamps ? ', timestamps' : ''}`;
      return {
        checks: [
          check.ok('the SYN carries an MSS option', typeof co.mss === 'number' && co.mss > 0, co, 'mss > 0', [syn.packet]),
          check.ok('the SYN-ACK carries an MSS option', typeof so.mss === 'number' && so.mss > 0, so, 'mss > 0', [synAck.packet]),
          check.ok('both announce a receive window', syn.window > 0 && synAck.window > 0, [syn.window, synAck.window], 'both > 0', [syn.packet, synAck.packet]),
        ],
        evidence: `SYN: ${opt(co, syn.window)}; SYN-ACK: ${opt(so, synAck.window)} (windows in SYNs are never scaled)`,
      };
    },
  },

  checks: (f) => [check.ok('the listening socket was observed in LISTEN', f.listenerStates.includes('LISTEN'), f.listenerStates, 'LISTEN among them')],

  story: ({ syn, synAck, third, conn }) =>
    `This run: the client's SYN (packet ${syn.packet}) chose x = ${syn.seq}; the server's SYN-ACK ${ms(synAck.time - syn.time)} later chose y = ${synAck.seq} and acknowledged x+1; ` +
    `the third segment (packet ${third.packet}) acknowledged y+1. On loopback the whole handshake took ${conn.handshake.rttMs?.toFixed(3)} ms.`,
});
