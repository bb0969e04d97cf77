/**
 * The four-way close on a real kernel: the client closes first (FIN), the server's kernel ACKs,
 * the server application sends its own FIN a moment later, the client ACKs and sits in TIME_WAIT.
 * The capture shows the four segments; /proc/net/tcp shows the states between them and the
 * TIME_WAIT countdown on the client's socket.
 */
import { check, connFacts, theConnection, defineLab, enteredBy, firstObserved, ms, observedStates, stateTrail, TcpState } from '../../../src/lab/index.js';

export default defineLab({
  name: 'four-way-close',
  title: 'The four-way close: FIN, ACK, FIN, ACK, and who holds TIME_WAIT',
  topic: 'tcp/close',
  seconds: 1,
  needs: ['root'], // IPv4 runs with the raw-socket backend too; IPv6 needs tcpdump
  topology: { kind: 'loopback' },
  params: {
    serverDelayMs: { type: 'int', default: 200, min: 0, max: 5000, help: 'how long the server application waits after EOF before it closes (0 folds its ACK into its FIN: a three-segment close)' },
  },
  explanation: `close() (here socket.end()) makes the client send FIN with seq u: it is FIN_WAIT_1. The
server's kernel acknowledges it (ack = u+1; the FIN consumed one sequence number) and tells the
application "end of stream": the server is CLOSE_WAIT, the client, on that ACK, FIN_WAIT_2. When the
server's application closes too, it sends FIN seq w and is LAST_ACK. The client acknowledges it
(ack = w+1) and enters TIME_WAIT; the server is CLOSED when that ACK arrives. Only the side that closed
first waits in TIME_WAIT: on Linux for 60 s (TCP_TIMEWAIT_LEN), whatever MSL the textbook assumes.`,

  async run(ctx) {
    // With no delay the server closes on EOF itself (no round trip through the runner, which a
    // loaded machine can stretch past the ~40 ms delayed ACK): the kernel folds its ACK into the FIN.
    const fold = ctx.params.serverDelayMs === 0;
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0, endOnEof: fold });
    const { port } = await server.next('listening');
    ctx.mark('connect', { port });
    const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port });
    await client.next('connected');
    await server.next('accepted');
    client.send({ do: 'write', bytes: 100 });
    await server.next('data');
    client.send({ do: 'end' });
    await server.next('end');
    if (!fold) {
      await ctx.sleep(ctx.params.serverDelayMs); // the application's own pause, not a wait for the kernel
      server.send({ do: 'end' });
    }
    await client.next('closed');
    await server.next('closed');
    // Let the observer catch the TIME_WAIT socket and its timer.
    await ctx.waitForSocket('client', (s) => s.state === TcpState.TIME_WAIT, 10_000);
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'connect');
    if (!conn) return null;
    const f = connFacts(conn);
    const { firstFin, secondFin } = f.close;
    if (!setup.expect('both sides sent a FIN', !!(firstFin && secondFin), [firstFin?.packet, secondFin?.packet], 'two FINs')) return null;
    const server = ctx.endpoint('server', conn.serverPort); // the listener's address, and the accepted socket's
    return {
      ...f, fin1: firstFin!, fin2: secondFin!, server,
      closeWait: firstObserved(ctx.observation, server, 'CLOSE_WAIT'),
      finWait2: firstObserved(ctx.observation, f.conn.client, 'FIN_WAIT_2'),
      timeWait: firstObserved(ctx.observation, f.conn.client, 'TIME_WAIT'),
      serverTimeWait: firstObserved(ctx.observation, server, 'TIME_WAIT'),
      listenerStates: observedStates(ctx.observation, server),
    };
  },

  claims: {
    C01: ({ conn, fin1, fin2 }) => ({
      checks: [
        check.eq('the client sent the first FIN', fin1.from, 'client', [fin1.packet]),
        check.ok('the client FIN came before the server FIN', fin1.packet < fin2.packet, [fin1.packet, fin2.packet], 'client first'),
        check.eq('the client went ESTABLISHED -> FIN_WAIT_1 on its FIN', enteredBy(conn, 'client', 'FIN_WAIT_1'), fin1.packet, [fin1.packet]),
      ],
      evidence: `packet ${fin1.packet}: the client's FIN, seq u = ${fin1.seq} (relative ${fin1.relSeq}), sent by socket.end(); client -> FIN_WAIT_1`,
    }),
    C02: ({ conn, fin1, fin2, close, closeWait, finWait2, server }, ctx) => {
      const ack1 = close.firstFinAck;
      if (!ack1) {
        const wantFold = ctx.params.serverDelayMs === 0;
        return {
          checks: [check.ok(wantFold ? 'with no server delay the ACK was folded into the FIN' : 'the server acknowledged the FIN before its own FIN', wantFold && close.folded, close.folded ? 'folded into the FIN' : 'no ACK', wantFold ? 'folded' : `an ACK with ack ${(fin1.seq + 1) >>> 0}`, [fin1.packet, fin2.packet])],
          evidence: `no separate ACK: the server's FIN (packet ${fin2.packet}) carried ack = u+1 itself, so CLOSE_WAIT lasted ${ms(fin2.time - fin1.time)} and the client skipped FIN_WAIT_2`,
          differs: { textbook: 'an ACK of the FIN, then later a FIN', linux: 'when the application closes before the delayed-ACK timer fires, the ACK rides on the FIN', measured: `${ms(fin2.time - fin1.time)} from FIN to FIN+ACK` },
        };
      }
      const delay = ack1.time - fin1.time;
      const cwBeforeAck = closeWait !== null && closeWait.time < ack1.absTime;
      return {
        checks: [
          check.eq('the server ACKed the FIN with ack = u+1 (a FIN consumes one sequence number)', ack1.ack, (fin1.seq + 1) >>> 0, [ack1.packet]),
          check.eq("the server went CLOSE_WAIT on the client's FIN", enteredBy(conn, 'server', 'CLOSE_WAIT'), fin1.packet, [fin1.packet]),
          check.eq('the client went FIN_WAIT_2 on that ACK', enteredBy(conn, 'client', 'FIN_WAIT_2'), ack1.packet, [ack1.packet]),
          check.ok('/proc/net/tcp showed the server socket in CLOSE_WAIT', closeWait !== null, observedStates(ctx.observation, server), 'CLOSE_WAIT among them'),
        ],
        evidence: `packet ${ack1.packet}: ACK ack = ${ack1.ack} = u+1, ${ms(delay)} after the FIN${delay > 0.02 ? ' (a delayed ACK)' : ''}; ` +
          `the kernel showed the server in CLOSE_WAIT${cwBeforeAck ? ' already before that ACK left (it enters CLOSE_WAIT when the FIN arrives)' : ''}${finWait2 ? ', and the client in FIN_WAIT_2' : ''}, until the server closed`,
      };
    },
    C04: ({ conn, fin1, fin2 }) => ({
      checks: [
        check.eq('the server FIN carries ack = u+1', fin2.ack, (fin1.seq + 1) >>> 0, [fin2.packet]),
        check.eq('the server went LAST_ACK on its FIN', enteredBy(conn, 'server', 'LAST_ACK'), fin2.packet, [fin2.packet]),
      ],
      evidence: `packet ${fin2.packet}: the server's FIN, seq w = ${fin2.seq}, ack ${fin2.ack} = u+1, ${ms(fin2.time - fin1.time)} after the client's FIN; server -> LAST_ACK`,
    }),
    C05: ({ conn, fin2, close, timeWait }, ctx) => {
      const ack2 = close.lastAck;
      const twSeconds = timeWait ? timeWait.socket.timerRemainingMs / 1000 : null;
      return {
        checks: [
          check.ok('the client ACKed the server FIN with ack = w+1', !!ack2, ack2?.ack ?? null, (fin2.seq + 1) >>> 0, [ack2?.packet ?? fin2.packet]),
          check.eq('the client went TIME_WAIT on that ACK', ack2 ? enteredBy(conn, 'client', 'TIME_WAIT') : null, ack2?.packet ?? null),
          check.eq('the server went CLOSED when that ACK arrived', ack2 ? enteredBy(conn, 'server', 'CLOSED') : null, ack2?.packet ?? null),
          check.ok('/proc/net/tcp showed the client socket in TIME_WAIT', timeWait !== null, observedStates(ctx.observation, conn.client), 'TIME_WAIT among them'),
          // Linux: TCP_TIMEWAIT_LEN = 60 s, counted down from when the socket entered TIME_WAIT.
          check.near('the TIME_WAIT timer started at about 60 s', twSeconds, 60, { abs: 1.5 }),
        ],
        // How long TIME_WAIT lasts against 2MSL is C08's question; here the sequence of states is.
        evidence: `packet ${ack2?.packet}: ACK ack = w+1; the client socket was seen in TIME_WAIT with ${twSeconds?.toFixed(2)} s left on its timer (Linux holds TIME_WAIT a fixed 60 s, TCP_TIMEWAIT_LEN); the server side left the socket table (CLOSED) on that ACK`,
      };
    },
    C06: ({ conn, serverTimeWait }) => ({
      checks: [
        check.eq('the analysis puts TIME_WAIT on the client only', conn.timeWait, 'client'),
        check.ok('the server never entered TIME_WAIT (analysis)', !stateTrail(conn, 'server').includes('TIME_WAIT'), stateTrail(conn, 'server'), 'no TIME_WAIT'),
        check.ok('the kernel showed no TIME_WAIT socket on the server side', serverTimeWait === null, serverTimeWait?.socket ?? null, null),
      ],
      evidence: `client states: ${stateTrail(conn, 'client').join(' -> ')}; server states: ${stateTrail(conn, 'server').join(' -> ')}; only the client's socket appeared in TIME_WAIT`,
    }),
  },

  checks: ({ conn, close, fin1, fin2 }) => [
    check.eq(close.folded ? 'the close took three segments (FIN, FIN+ACK, ACK)' : 'the close took four segments (FIN, ACK, FIN, ACK)', conn.close.kind, close.folded ? 'three-way' : 'four-way', [fin1.packet, fin2.packet]),
  ],

  story: ({ fin1, fin2, close, timeWait }, ctx) =>
    `This run: the client's FIN left at ${fin1.time.toFixed(3)} s; ${close.firstFinAck ? `the server's kernel acknowledged it ${ms(close.firstFinAck.time - fin1.time)} later` : 'the server acknowledged it only on its own FIN'}; ` +
    `the server application, which waited ${ctx.params.serverDelayMs} ms after reading EOF, sent its FIN ${ms(fin2.time - fin1.time)} after the client's. ` +
    `The client's socket then showed ${timeWait ? `${(timeWait.socket.timerRemainingMs / 1000).toFixed(2)} s` : 'no'} TIME_WAIT left: Linux's fixed 60 s, not 2MSL.`,
});
