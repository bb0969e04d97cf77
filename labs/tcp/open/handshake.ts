/**
 * The three-way handshake on a real kernel: a node:net client connects to a node:net server on
 * loopback; the capture shows the SYN, SYN-ACK and ACK with their ISNs, flags and options.
 */
import { check, connFacts, theConnection, defineLab, enteredBy, kernelMissing, kernelState, ms, observedStates, signedUs, stateTrail, type Check, type KernelStateSeen } from '../../../src/lab/index.js';

/** A kernel-event check when the run has kernel events; none (the packets' inference stands) without. */
const seen = (text: string, k: KernelStateSeen, expected: string, packets: number[]): Check[] =>
  [check.ok(text, k.event !== null && k.inWindow, k.event ? `${k.event.from} -> ${k.event.to} at ${signedUs(k.us!)}` : 'no such event', expected, packets)];

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
    const conn = theConnection(ctx, setup, 'connect');
    if (!conn) return null;
    const f = connFacts(conn);
    const { syn, synAck, third } = f.handshake;
    if (!setup.expect('the capture holds a SYN, a SYN-ACK and the third segment', !!(syn && synAck && third), [syn?.packet, synAck?.packet, third?.packet])) return null;
    const data = f.segments.find((s) => s.from === 'client' && s.len > 0) ?? null;
    const listener = ctx.endpoint('server', conn.serverPort);
    // The kernel's own state changes (tracepoint sock:inet_sock_set_state), placed between packets.
    const k = ctx.kernelEvents;
    const c = conn;
    const next = f.segments.find((s) => s.packet > third!.packet) ?? null;
    const connectAt = ctx.mark('connect')!.t - 0.002; // Date.now() before the client started: millisecond resolution
    const kernel = {
      // the raw-socket backend stamps packets in user space (late, and its epoch is a Date.now() millisecond): kernel times cannot go between them
      missing: kernelMissing(k) ?? (ctx.capture?.backend === 'raw-socket' ? 'the raw-socket capture stamps packets in user space, to a millisecond: kernel times cannot be placed between them' : null),
      synSent: kernelState(k, { local: c.client, remote: c.server }, { to: 'SYN_SENT' }, { after: connectAt, before: syn!.absTime, ref: syn!.absTime }),
      clientEstablished: kernelState(k, { local: c.client, remote: c.server }, { to: 'ESTABLISHED', from: 'SYN_SENT' }, { after: synAck!.absTime, before: third!.absTime, ref: synAck!.absTime }),
      synRecv: kernelState(k, { local: c.server, remote: c.client }, { to: 'SYN_RECV' }, { after: third!.absTime, before: next?.absTime ?? null, ref: third!.absTime }),
      serverEstablished: kernelState(k, { local: c.server, remote: c.client }, { to: 'ESTABLISHED', from: 'SYN_RECV' }, { after: third!.absTime, before: next?.absTime ?? null, ref: third!.absTime }),
    };
    return { ...f, syn: syn!, synAck: synAck!, third: third!, data, next, kernel, listenerStates: observedStates(ctx.observation, listener) };
  },

  claims: {
    H01: ({ conn, syn, kernel }) => ({
      checks: [
        check.eq('the SYN has SYN=1 and ACK=0', [(syn.flags & 0x02) !== 0, (syn.flags & 0x10) !== 0], [true, false], [syn.packet]),
        check.eq('the client went CLOSED -> SYN_SENT on sending the SYN', enteredBy(conn, 'client', 'SYN_SENT'), syn.packet, [syn.packet]),
        ...(kernel.missing ? [] : seen("the client's kernel reported CLOSE -> SYN_SENT after connect() and before the SYN left", kernel.synSent, `between connect() and packet ${syn.packet}`, [syn.packet])),
        check.eq("the analysis reports the SYN's sequence number as the client ISN", conn.handshake.clientIsn, syn.seq, [syn.packet]),
      ],
      evidence: `packet ${syn.packet}: SYN (ACK=0), seq x = ${syn.seq}; the client is SYN_SENT from this segment until the SYN-ACK arrives; ` +
        (kernel.missing
          ? `no kernel-event evidence (${kernel.missing}): SYN_SENT is inferred from the packets`
          : kernel.synSent.event ? `the kernel set SYN_SENT ${signedUs(kernel.synSent.us!)} from the SYN (kernel event)` : 'the kernel reported no SYN_SENT for this socket'),
    }),
    H02: ({ conn, syn, synAck, third, next, kernel }) => ({
      checks: [
        check.eq('the SYN-ACK acknowledges x+1', synAck.ack, (syn.seq + 1) >>> 0, [synAck.packet]),
        check.ok('the server chose its own ISN y (y != x)', synAck.seq !== syn.seq, synAck.seq, `not ${syn.seq}`, [synAck.packet]),
        check.eq('the server went SYN_RCVD when it sent the SYN-ACK', enteredBy(conn, 'server', 'SYN_RCVD'), synAck.packet, [synAck.packet]),
        // Linux keeps the half-open connection as a request socket (NEW_SYN_RECV), which reports no
        // state change; the full socket is born SYN_RECV when the ACK arrives.
        ...(kernel.missing ? [] : seen("the server's kernel reported its socket entering SYN_RECV when the ACK arrived", kernel.synRecv, `between packet ${third.packet} and ${next ? `packet ${next.packet}` : 'the end'}`, [third.packet])),
      ],
      evidence: `packet ${synAck.packet}: SYN+ACK, seq y = ${synAck.seq}, ack = ${synAck.ack} = x+1; the server's side lived as a SYN_RCVD request socket (the kernel's NEW_SYN_RECV) for ${ms(third.time - syn.time)} (SYN in to ACK in); ` +
        (kernel.missing
          ? `no kernel-event evidence (${kernel.missing}): the server's states are inferred from the packets`
          : kernel.synRecv.event
            ? `the request socket reports no state change; its full socket entered SYN_RECV ${signedUs(kernel.synRecv.us!)} from the ACK (packet ${third.packet}, kernel event)`
            : 'the kernel reported no SYN_RECV for the server socket'),
    }),
    H03: ({ conn, syn, synAck, third, next, kernel }, ctx) => ({
      checks: [
        check.eq('the third segment has seq = x+1 and ack = y+1', [third.seq, third.ack], [(syn.seq + 1) >>> 0, (synAck.seq + 1) >>> 0], [third.packet]),
        check.ok('the client is ESTABLISHED by the third segment', (enteredBy(conn, 'client', 'ESTABLISHED') ?? Infinity) <= third.packet, stateTrail(conn, 'client'), `ESTABLISHED by packet ${third.packet}`, [third.packet]),
        check.eq('the server became ESTABLISHED when the ACK arrived', enteredBy(conn, 'server', 'ESTABLISHED'), third.packet, [third.packet]),
        check.eq('the analysis calls the handshake complete', conn.handshake.complete, true),
        ...(kernel.missing ? [] : seen("the client's kernel reported SYN_SENT -> ESTABLISHED between the SYN-ACK and its ACK", kernel.clientEstablished, `between packets ${synAck.packet} and ${third.packet}`, [synAck.packet, third.packet])),
        ...(kernel.missing ? [] : seen("the server's kernel reported SYN_RECV -> ESTABLISHED when the ACK arrived", kernel.serverEstablished, `after packet ${third.packet}${next ? `, before packet ${next.packet}` : ''}`, [third.packet])),
      ],
      evidence: `packet ${third.packet}: ACK seq ${third.seq} = x+1, ack ${third.ack} = y+1; handshake RTT ${conn.handshake.rttMs?.toFixed(3)} ms${observedStates(ctx.observation, conn.client).includes('ESTABLISHED') ? '; /proc/net/tcp showed the client socket ESTABLISHED' : ''}; ` +
        (kernel.missing
          ? `no kernel-event evidence (${kernel.missing}): ESTABLISHED is inferred from the packets`
          : `kernel events: client ESTABLISHED ${kernel.clientEstablished.event ? `${signedUs(kernel.clientEstablished.us!)} from the SYN-ACK` : 'not reported'}, server ESTABLISHED ${kernel.serverEstablished.event ? `${signedUs(kernel.serverEstablished.us!)} from the ACK` : 'not reported'}`),
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
