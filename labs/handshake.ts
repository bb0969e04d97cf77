/**
 * The three-way handshake, on a real kernel: a node:net client connects to a node:net server on
 * loopback; the capture shows the SYN, SYN-ACK and ACK with their ISNs, flags and options.
 * Claims: H01 (SYN, ACK=0, random ISN x, SYN_SENT), H02 (SYN+ACK, ack=x+1, own ISN y, SYN_RCVD),
 * H03 (ACK seq=x+1 ack=y+1, both ESTABLISHED), H04 (a SYN carries no data but consumes one
 * sequence number), H06 (window and options such as MSS exchanged).
 */
import type { LabDefinition } from '../src/lab/types.js';
import { endpointText } from '../src/endpoint.js';
import { ACK, SYN } from '../src/decode/packet.js';
import { enteredBy, first, isPureAck, isSyn, isSynAck, observedStates, stateTrail } from './lib/facts.js';

const lab: LabDefinition = {
  name: 'handshake',
  title: 'The three-way handshake: SYN, SYN-ACK, ACK with real ISNs',
  claims: ['H01', 'H02', 'H03', 'H04', 'H06'],
  seconds: 1,
  needs: ['root'], // IPv4 runs with the raw-socket backend too; IPv6 needs tcpdump
  topology: { kind: 'loopback' },
  explanation: `connect() makes the client's kernel send a SYN carrying a random initial sequence number
(ISN) x and the client's options (MSS, window scale, SACK, timestamps); the client is now SYN_SENT.
The listening server's kernel answers SYN+ACK: its own random ISN y, ack = x+1 (the SYN consumed one
sequence number though it carried no data), its options; the server side is SYN_RCVD (a request
socket in the SYN queue). The client acknowledges with ack = y+1 and seq = x+1 and is ESTABLISHED; when
that ACK arrives the server's request becomes a full socket in the accept queue, ESTABLISHED, and
accept() returns it. Everything after is numbered relative to x and y: that is what Wireshark's
"relative sequence numbers" show.`,

  async run(ctx) {
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 });
    const { port } = await server.next('listening');
    ctx.mark('connect');
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

  judge(ctx, j) {
    const server = ctx.addr('server');
    const conns = ctx.analysis.tcp.filter((c) => c.serverAddr === server);
    if (!j.equal('exactly one TCP connection to the server was captured', conns.length, 1)) return;
    const c = conns[0]!;
    const syn = first(c, 'client', isSyn);
    const synAck = first(c, 'server', isSynAck);
    const ack = first(c, 'client', isPureAck, synAck?.packet ?? 0);
    const data = first(c, 'client', (s) => s.len > 0);
    if (!j.ok('the capture holds a SYN, a SYN-ACK and the ACK that completes the handshake', !!(syn && synAck && ack), [syn?.packet, synAck?.packet, ack?.packet], 'three packet numbers')) return;
    const x = syn!.seq;
    const y = synAck!.seq;
    const pk = [syn!.packet, synAck!.packet, ack!.packet];

    // H01: SYN, ACK=0, no data, client -> SYN_SENT.
    const h01 = [
      j.equal('the SYN has SYN=1 and ACK=0', [(syn!.flags & SYN) !== 0, (syn!.flags & ACK) !== 0], [true, false], [syn!.packet]),
      j.equal('the client went CLOSED -> SYN_SENT on sending the SYN', enteredBy(c, 'client', 'SYN_SENT'), syn!.packet, [syn!.packet]),
      j.equal('the analysis reports the SYN\'s sequence number as the client ISN', c.handshake.clientIsn, x, [syn!.packet]),
    ].every(Boolean);
    j.claim('H01', h01 ? 'confirmed' : 'refuted', `packet ${syn!.packet}: SYN (ACK=0), seq x = ${x}; the client is SYN_SENT from this segment until the SYN-ACK arrives`);

    // H02: SYN+ACK with ack = x+1 and the server's own ISN y.
    const h02 = [
      j.equal('the SYN-ACK acknowledges x+1', synAck!.ack, (x + 1) >>> 0, [synAck!.packet]),
      j.ok('the server chose its own ISN y (y != x)', y !== x, y, `not ${x}`, [synAck!.packet]),
      j.equal('the server went SYN_RCVD when it sent the SYN-ACK', enteredBy(c, 'server', 'SYN_RCVD'), synAck!.packet, [synAck!.packet]),
    ].every(Boolean);
    j.claim('H02', h02 ? 'confirmed' : 'refuted', `packet ${synAck!.packet}: SYN+ACK, seq y = ${y}, ack = ${synAck!.ack} = x+1; the server's side lived as a SYN_RCVD request socket (the kernel's SYN_RECV) for ${((ack!.time - syn!.time) * 1e3).toFixed(3)} ms (SYN in to ACK in)`);

    // H03: ACK seq = x+1, ack = y+1; both ESTABLISHED.
    const h03 = [
      j.equal('the third segment has seq = x+1 and ack = y+1', [ack!.seq, ack!.ack], [(x + 1) >>> 0, (y + 1) >>> 0], [ack!.packet]),
      j.ok('the client is ESTABLISHED by the third segment', (enteredBy(c, 'client', 'ESTABLISHED') ?? Infinity) <= ack!.packet, stateTrail(c, 'client'), 'ESTABLISHED by packet ' + ack!.packet, pk),
      j.equal('the server became ESTABLISHED when the ACK arrived', enteredBy(c, 'server', 'ESTABLISHED'), ack!.packet, [ack!.packet]),
      j.equal('the analysis calls the handshake complete', c.handshake.complete, true, pk),
    ].every(Boolean);
    const estSeen = observedStates(ctx.observation, c.client).includes('ESTABLISHED');
    j.claim('H03', h03 ? 'confirmed' : 'refuted', `packet ${ack!.packet}: ACK seq ${ack!.seq} = x+1, ack ${ack!.ack} = y+1; handshake RTT ${c.handshake.rttMs?.toFixed(3)} ms${estSeen ? '; /proc/net/tcp showed the client socket ESTABLISHED' : ''}`);

    // H04: no data in the SYN, but the next client sequence number is x+1.
    const h04 = [
      j.equal('the SYN carries no data', syn!.len, 0, [syn!.packet]),
      j.equal('the first data segment starts at x+1 (relative seq 1)', data ? [data.seq, data.relSeq] : null, [(x + 1) >>> 0, 1], data ? [data.packet] : []),
    ].every(Boolean);
    j.claim('H04', h04 ? 'confirmed' : 'refuted', `the SYN has length 0, yet the SYN-ACK acks x+1 and the first data byte (packet ${data?.packet}) has seq x+1: the SYN consumed one sequence number`);

    // H06: options and window exchanged in SYN and SYN-ACK.
    const co = c.handshake.clientOptions;
    const so = c.handshake.serverOptions;
    const h06 = [
      j.ok('the SYN carries an MSS option', typeof co.mss === 'number' && co.mss > 0, co, 'mss > 0', [syn!.packet]),
      j.ok('the SYN-ACK carries an MSS option', typeof so.mss === 'number' && so.mss > 0, so, 'mss > 0', [synAck!.packet]),
      j.ok('both announce a receive window', syn!.window > 0 && synAck!.window > 0, [syn!.window, synAck!.window], 'both > 0', [syn!.packet, synAck!.packet]),
    ].every(Boolean);
    const opt = (o: typeof co, w: number): string =>
      `window ${w}, MSS ${o.mss}${o.wscale !== undefined ? `, wscale ${o.wscale}` : ''}${o.sackPermitted ? ', SACK permitted' : ''}${o.timestamps ? ', timestamps' : ''}`;
    j.claim('H06', h06 ? 'confirmed' : 'refuted', `SYN: ${opt(co, syn!.window)}; SYN-ACK: ${opt(so, synAck!.window)} (windows in SYNs are never scaled)`);

    j.ok('the listening socket was observed in LISTEN', observedStates(ctx.observation, endpointText(server, c.serverPort)).includes('LISTEN'), observedStates(ctx.observation, endpointText(server, c.serverPort)), 'LISTEN among them');
  },
};

export default lab;
