/**
 * The four-way close the other way round: the server closes first (an HTTP/1.0-style server that
 * answers and hangs up), the client closes when it has read the server's FIN. The server's socket
 * goes FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT; the client's CLOSE_WAIT -> LAST_ACK -> CLOSED. The
 * TIME_WAIT socket now sits on the server's port, in the server's socket table.
 */
import { check, connFacts, theConnection, defineLab, enteredBy, firstObserved, ms, observedStates, secs, stateTrail, TcpState } from '../../../src/lab/index.js';

export default defineLab({
  name: 'server-first-close',
  title: 'The server closes first: it goes through FIN_WAIT and holds TIME_WAIT, not the client',
  topic: 'tcp/close',
  seconds: 1,
  timeoutMs: 90_000, // a few seconds here; starting each node program took seconds on a machine loaded to 70
  needs: ['root'],
  topology: { kind: 'loopback' },
  params: {
    clientDelayMs: { type: 'int', default: 200, min: 0, max: 5000, help: "how long the client application waits after reading the server's FIN before it closes (0: it closes at once and its ACK rides on its FIN)" },
  },
  explanation: `Nothing in TCP says the client closes first. Here the client sends a request, the server
answers by closing (socket.end(): FIN with seq u), so the server is the one in FIN_WAIT_1. The client's
kernel acknowledges the FIN (ack = u+1) and the client is CLOSE_WAIT; the server, on that ACK, is
FIN_WAIT_2. When the client application has read the end of the stream it closes too: its FIN (seq w)
puts it in LAST_ACK, the server acknowledges (ack = w+1) and enters TIME_WAIT. TIME_WAIT belongs to
whoever closed first, so here it is the server's socket (on the server's port) that waits 60 s on Linux.
That is why busy servers that close first pile up TIME_WAIT sockets and clients that close first do not
bother the server.`,

  async run(ctx) {
    const fold = ctx.params.clientDelayMs === 0;
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 });
    const { port } = await server.next('listening', { timeoutMs: 30_000 });
    ctx.mark('connect', { port });
    // With no delay the client closes on EOF in its own process: its ACK then rides on its FIN.
    const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port, endOnEof: fold });
    const clientEp = String((await client.next('connected', { timeoutMs: 30_000 })).local);
    const serverEp = ctx.endpoint('server', Number(port));
    await server.next('accepted');
    client.send({ do: 'write', bytes: 100 }); // the request
    await server.next('data');
    ctx.mark('server closes');
    server.send({ do: 'end' }); // the server answers by closing: its FIN goes first
    await client.next('end');
    if (!fold) {
      // The client application's own pause; on a loaded machine also long enough for the socket
      // sampler to have seen the states in between (readiness, not a sleep).
      await Promise.all([
        ctx.sleep(ctx.params.clientDelayMs),
        ctx.waitForSocket('server', (s) => s.local === serverEp && s.remote === clientEp && s.state === TcpState.FIN_WAIT_2, 10_000),
        ctx.waitForSocket('client', (s) => s.local === clientEp && s.state === TcpState.CLOSE_WAIT, 10_000),
      ]);
      client.send({ do: 'end' });
    }
    await client.next('closed');
    await server.next('closed');
    await ctx.waitForSocket('server', (s) => s.state === TcpState.TIME_WAIT && s.local === ctx.endpoint('server', Number(port)), 10_000);
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'connect');
    if (!conn) return null;
    const f = connFacts(conn);
    const { firstFin, secondFin } = f.close;
    if (!setup.expect('both sides sent a FIN', !!(firstFin && secondFin), [firstFin?.packet, secondFin?.packet], 'two FINs')) return null;
    const server = f.conn.server;
    const client = f.conn.client;
    return {
      ...f, fin1: firstFin!, fin2: secondFin!, serverEp: server, clientEp: client,
      serverTimeWait: firstObserved(ctx.observation, server, TcpState.TIME_WAIT),
      clientTimeWait: firstObserved(ctx.observation, client, TcpState.TIME_WAIT),
      serverFinWait2: firstObserved(ctx.observation, server, TcpState.FIN_WAIT_2),
      clientCloseWait: firstObserved(ctx.observation, client, TcpState.CLOSE_WAIT),
      serverStates: observedStates(ctx.observation, server, client),
      clientStates: observedStates(ctx.observation, client, server),
    };
  },

  claims: {
    C01: ({ conn, fin1, fin2, close, serverFinWait2, clientCloseWait, serverStates, clientStates }) => ({
      checks: [
        check.eq('the server sent the first FIN', fin1.from, 'server', [fin1.packet]),
        check.ok("the server's FIN came before the client's", fin1.packet < fin2.packet, [fin1.packet, fin2.packet], 'server first'),
        check.eq('the server went ESTABLISHED -> FIN_WAIT_1 on its FIN (analysis)', enteredBy(conn, 'server', 'FIN_WAIT_1'), fin1.packet, [fin1.packet]),
        check.eq("the client went CLOSE_WAIT on the server's FIN (analysis)", enteredBy(conn, 'client', 'CLOSE_WAIT'), fin1.packet, [fin1.packet]),
        check.eq("the client's FIN came later and carried ack = u+1", fin2.ack, (fin1.seq + 1) >>> 0, [fin2.packet]),
        check.ok('/proc/net/tcp showed the client socket in CLOSE_WAIT', clientCloseWait !== null, clientStates, 'CLOSE_WAIT among them'),
        ...(close.firstFinAck ? [check.ok('/proc/net/tcp showed the server socket in FIN_WAIT_2 (the closer waits for the peer\'s FIN)', serverFinWait2 !== null, serverStates, 'FIN_WAIT_2 among them')] : []),
      ],
      evidence: `packet ${fin1.packet}: the server's FIN first (seq u = ${fin1.seq}), sent by socket.end() on the server; ` +
        `${close.firstFinAck ? `the client's kernel ACKed it in packet ${close.firstFinAck.packet} (${ms(close.firstFinAck.time - fin1.time)} later), ` : ''}` +
        `the client's FIN followed in packet ${fin2.packet}, ${ms(fin2.time - fin1.time)} after the server's. /proc: server ${serverStates.join(' -> ')}; client ${clientStates.join(' -> ')}`,
    }),
    C06: ({ conn, serverTimeWait, clientTimeWait, close, clientStates }) => {
      const left = serverTimeWait ? serverTimeWait.socket.timerRemainingMs / 1000 : null;
      return {
        checks: [
          check.eq('the analysis puts TIME_WAIT on the server only', conn.timeWait, 'server'),
          check.ok('the client never entered TIME_WAIT (analysis)', !stateTrail(conn, 'client').includes('TIME_WAIT'), stateTrail(conn, 'client'), 'no TIME_WAIT'),
          check.ok("/proc/net/tcp showed the server's socket in TIME_WAIT", serverTimeWait !== null, serverTimeWait?.socket ?? null, 'a TIME_WAIT entry on the server port'),
          check.ok('/proc/net/tcp showed no TIME_WAIT socket on the client side', clientTimeWait === null, clientTimeWait?.socket ?? null, null),
          check.eq("the server entered TIME_WAIT on its ACK of the client's FIN (analysis)", close.lastAck ? enteredBy(conn, 'server', 'TIME_WAIT') : null, close.lastAck?.packet ?? null, [close.lastAck?.packet]),
          check.near('the TIME_WAIT timer on the server socket started at about 60 s', left, 60, { abs: 1.5 }),
        ],
        evidence: `the server (${conn.server}) closed first and its socket showed TIME_WAIT with ${secs(left)} left, entered on its last ACK (packet ${close.lastAck?.packet}); ` +
          `the client (${conn.client}) went ${clientStates.join(' -> ')} and left the socket table with no TIME_WAIT: the side that closes first waits, whichever it is`,
      };
    },
  },

  checks: ({ conn, close, fin1, fin2 }, ctx) => [
    check.eq(ctx.params.clientDelayMs === 0 ? 'the close took three segments (FIN, FIN+ACK, ACK)' : 'the close took four segments (FIN, ACK, FIN, ACK)', conn.close.kind, close.folded ? 'three-way' : 'four-way', [fin1.packet, fin2.packet]),
  ],

  story: ({ fin1, fin2, close, serverTimeWait, conn }, ctx) =>
    `This run: the server's FIN left at ${fin1.time.toFixed(3)} s (packet ${fin1.packet}); ` +
    `${close.firstFinAck ? `the client's kernel acknowledged it ${ms(close.firstFinAck.time - fin1.time)} later${close.firstFinAck.time - fin1.time >= 0.02 ? ' (a delayed ACK)' : ''}` : 'the client acknowledged it only on its own FIN'}; ` +
    `the client application, which waited ${ctx.params.clientDelayMs} ms after reading EOF, sent its FIN ${ms(fin2.time - fin1.time)} after the server's. ` +
    `So the server, not the client, sat in TIME_WAIT: its socket ${conn.server} showed ${serverTimeWait ? secs(serverTimeWait.socket.timerRemainingMs / 1000) : 'no'} left. ` +
    `A server that closes first keeps one such socket per connection for 60 s on its own port; the client's port was free at once.`,
});
