/**
 * The four-way close, on a real kernel: the client closes first (FIN), the server's kernel ACKs at
 * once, the server application sends its own FIN a moment later, the client ACKs and sits in
 * TIME_WAIT. The capture shows the four segments; /proc/net/tcp shows the states between them and
 * the TIME_WAIT countdown on the client's socket.
 * Claims: C01, C02, C04, C05, C06.
 */
import type { LabDefinition } from '../src/lab/types.js';
import { endpointText } from '../src/endpoint.js';
import { enteredBy, first, firstObserved, isFin, isPureAck, observedStates, stateTrail } from './lib/facts.js';

const lab: LabDefinition = {
  name: 'four-way-close',
  title: 'The four-way close: FIN, ACK, FIN, ACK, and who holds TIME_WAIT',
  claims: ['C01', 'C02', 'C04', 'C05', 'C06'],
  seconds: 1,
  needs: ['root'], // IPv4 runs with the raw-socket backend too; IPv6 needs tcpdump
  topology: { kind: 'loopback' },
  params: {
    serverDelayMs: { default: 200, help: 'how long the server application waits after EOF before it closes (0 folds its ACK into its FIN: a three-way close)' },
  },
  explanation: `close() (here socket.end()) makes the client send FIN with seq u: it is FIN_WAIT_1. The
server's kernel acknowledges it at once (ack = u+1; the FIN consumed one sequence number) and tells the
application "end of stream": the server is CLOSE_WAIT, the client, on that ACK, FIN_WAIT_2. The server
may still send data (a half-close); when its application closes too, it sends FIN seq w and is
LAST_ACK. The client acknowledges it (ack = w+1) and enters TIME_WAIT; the server is CLOSED when that
ACK arrives. Only the side that closed first waits in TIME_WAIT: on Linux for 60 s (TCP_TIMEWAIT_LEN),
whatever MSL the textbook assumes. If the server closes the moment it reads EOF, its kernel folds the
ACK into its FIN and the close takes three segments.`,

  async run(ctx) {
    // With no delay the server closes on EOF itself (no round trip through the runner, which a
    // loaded machine can stretch past the ~40 ms delayed ACK): the kernel folds its ACK into the FIN.
    const fold = Number(ctx.params.serverDelayMs) === 0;
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0, endOnEof: fold });
    const { port } = await server.next('listening');
    const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port });
    await client.next('connected');
    await server.next('accepted');
    client.send({ do: 'write', bytes: 100 });
    await server.next('data');
    ctx.mark('client closes');
    client.send({ do: 'end' });
    await server.next('end');
    if (!fold) {
      await ctx.sleep(Number(ctx.params.serverDelayMs));
      ctx.mark('server closes');
      server.send({ do: 'end' });
    }
    await client.next('closed');
    await server.next('closed');
    // Let the observer catch the TIME_WAIT socket and its timer.
    await ctx.waitForSocket('client', (s) => s.state === 'TIME_WAIT', 3000);
    await ctx.sleep(50);
  },

  judge(ctx, j) {
    const server = ctx.addr('server');
    const conns = ctx.analysis.tcp.filter((c) => c.serverAddr === server);
    if (!j.equal('exactly one TCP connection to the server was captured', conns.length, 1)) return;
    const c = conns[0]!;
    const fin1 = first(c, 'client', isFin);
    const fin2 = first(c, 'server', isFin);
    if (!j.ok('both sides sent a FIN', !!(fin1 && fin2), [fin1?.packet, fin2?.packet], 'two FINs')) return;
    const u = fin1!.seq;
    const w = fin2!.seq;
    const ack1 = first(c, 'server', (s) => isPureAck(s) && s.ack === ((u + 1) >>> 0), fin1!.packet);
    const ack2 = first(c, 'client', (s) => isPureAck(s) && s.ack === ((w + 1) >>> 0), fin2!.packet);
    const folded = !ack1 && fin2!.ack === ((u + 1) >>> 0);

    // C01: the client closes first: FIN seq u, FIN_WAIT_1.
    const c01 = [
      j.equal('the client sent the first FIN', c.close.initiator, 'client', [fin1!.packet]),
      j.ok('the client FIN came before the server FIN', fin1!.packet < fin2!.packet, [fin1!.packet, fin2!.packet], 'client first'),
      j.equal('the client went ESTABLISHED -> FIN_WAIT_1 on its FIN', enteredBy(c, 'client', 'FIN_WAIT_1'), fin1!.packet, [fin1!.packet]),
    ].every(Boolean);
    j.claim('C01', c01 ? 'confirmed' : 'refuted', `packet ${fin1!.packet}: the client's FIN, seq u = ${u} (relative ${fin1!.relSeq}), sent by socket.end(); client -> FIN_WAIT_1`);

    // C02: the server ACKs u+1 (CLOSE_WAIT), the client goes FIN_WAIT_2.
    const cw = firstObserved(ctx.observation, endpointText(server, c.serverPort), 'CLOSE_WAIT');
    const fw2 = firstObserved(ctx.observation, c.client, 'FIN_WAIT_2');
    if (ack1) {
      const c02 = [
        j.equal('the server ACKed the FIN with ack = u+1 (a FIN consumes one sequence number)', ack1.ack, (u + 1) >>> 0, [ack1.packet]),
        j.equal('the server went CLOSE_WAIT on the client\'s FIN', enteredBy(c, 'server', 'CLOSE_WAIT'), fin1!.packet, [fin1!.packet]),
        j.equal('the client went FIN_WAIT_2 on that ACK', enteredBy(c, 'client', 'FIN_WAIT_2'), ack1.packet, [ack1.packet]),
        j.ok('/proc/net/tcp showed the server socket in CLOSE_WAIT', cw !== null, observedStates(ctx.observation, endpointText(server, c.serverPort)), 'CLOSE_WAIT among them'),
      ].every(Boolean);
      const delayMs = (ack1.time - fin1!.time) * 1e3;
      const cwBeforeAck = cw !== null && cw.time < ack1.absTime;
      j.claim('C02', c02 ? 'confirmed' : 'refuted', `packet ${ack1.packet}: ACK ack = ${ack1.ack} = u+1, ${delayMs.toFixed(3)} ms after the FIN${delayMs > 20 ? ' (a delayed ACK)' : ''}; ` +
        `the kernel showed the server in CLOSE_WAIT${cwBeforeAck ? ' already before that ACK left (it enters CLOSE_WAIT when the FIN arrives)' : ''}${fw2 ? ', and the client in FIN_WAIT_2' : ''}, until the server closed`);
    } else {
      j.claim('C02', folded ? 'differs' : 'refuted', folded
        ? `no separate ACK: the server's FIN (packet ${fin2!.packet}) carried ack = u+1 itself, so CLOSE_WAIT lasted ${((fin2!.time - fin1!.time) * 1e3).toFixed(3)} ms and the client skipped FIN_WAIT_2`
        : `no segment acknowledged u+1 = ${(u + 1) >>> 0}`);
      // With serverDelayMs=0 the fold is what the user asked for; with a delay it is a failure.
      const wantFold = Number(ctx.params.serverDelayMs) === 0;
      j.ok(wantFold ? 'with no server delay the ACK was folded into the FIN' : 'the server acknowledged the FIN before its own FIN', wantFold && folded, folded ? 'folded into the FIN' : 'no ACK', wantFold ? 'folded' : `an ACK with ack ${(u + 1) >>> 0}`, [fin1!.packet, fin2!.packet]);
    }

    // C04: the server's FIN seq w, ack u+1; LAST_ACK.
    const c04 = [
      j.equal('the server FIN carries ack = u+1', fin2!.ack, (u + 1) >>> 0, [fin2!.packet]),
      j.equal('the server went LAST_ACK on its FIN', enteredBy(c, 'server', 'LAST_ACK'), fin2!.packet, [fin2!.packet]),
    ].every(Boolean);
    j.claim('C04', c04 ? 'confirmed' : 'refuted', `packet ${fin2!.packet}: the server's FIN, seq w = ${w}, ack ${fin2!.ack} = u+1, ${((fin2!.time - fin1!.time) * 1e3).toFixed(1)} ms after the client's FIN; server -> LAST_ACK`);

    // C05: the client ACKs w+1 and enters TIME_WAIT (60 s on Linux); the server is CLOSED.
    const tw = firstObserved(ctx.observation, c.client, 'TIME_WAIT');
    const twSeconds = tw ? tw.socket.timerRemainingMs / 1000 : null;
    const c05 = [
      j.ok('the client ACKed the server FIN with ack = w+1', !!ack2, ack2 ? ack2.ack : null, (w + 1) >>> 0, ack2 ? [ack2.packet] : [fin2!.packet]),
      j.equal('the client went TIME_WAIT on that ACK', ack2 ? enteredBy(c, 'client', 'TIME_WAIT') : null, ack2?.packet ?? null),
      j.equal('the server went CLOSED when that ACK arrived', ack2 ? enteredBy(c, 'server', 'CLOSED') : null, ack2?.packet ?? null),
      j.ok('/proc/net/tcp showed the client socket in TIME_WAIT', tw !== null, observedStates(ctx.observation, c.client), 'TIME_WAIT among them'),
      // Linux: TCP_TIMEWAIT_LEN = 60 s, counted down from when the socket entered TIME_WAIT.
      j.near('the TIME_WAIT timer started at about 60 s', twSeconds, 60, { abs: 1.5 }),
    ].every(Boolean);
    j.claim('C05', c05 ? 'confirmed' : 'refuted', `packet ${ack2?.packet}: ACK ack = w+1; the client socket was seen in TIME_WAIT with ${twSeconds?.toFixed(2)} s left on its timer (Linux holds TIME_WAIT a fixed 60 s, TCP_TIMEWAIT_LEN); the server side left the socket table (CLOSED) on that ACK`);

    // C06: only the side that closed first went through TIME_WAIT.
    const serverTw = firstObserved(ctx.observation, endpointText(server, c.serverPort), 'TIME_WAIT');
    const c06 = [
      j.equal('the analysis puts TIME_WAIT on the client only', c.timeWait, 'client'),
      j.ok('the server never entered TIME_WAIT (analysis)', !stateTrail(c, 'server').includes('TIME_WAIT'), stateTrail(c, 'server'), 'no TIME_WAIT'),
      j.ok('the kernel showed no TIME_WAIT socket on the server side', serverTw === null, serverTw?.socket ?? null, null),
    ].every(Boolean);
    j.claim('C06', c06 ? 'confirmed' : 'refuted', `client states: ${stateTrail(c, 'client').join(' -> ')}; server states: ${stateTrail(c, 'server').join(' -> ')}; only the client's socket appeared in TIME_WAIT`);

    j.equal(folded ? 'the close took three segments (FIN, FIN+ACK, ACK)' : 'the close took four segments (FIN, ACK, FIN, ACK)', c.close.kind, folded ? 'three-way' : 'four-way', [fin1!.packet, fin2!.packet]);
  },
};

export default lab;
