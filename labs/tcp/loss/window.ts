/**
 * Flow control: the server application does not read, its receive buffer fills, its window falls
 * to zero; the client's kernel stops sending and probes the closed window at doubling intervals;
 * when the application reads again, the server's window update lets the rest of the data through.
 * Every byte arrives, in order (sha256 at both ends).
 */
import { check, connFacts, theConnection, dataSegments, defineLab, delta, ms, secs, setOffloads, TcpState, windowProbes, withMark, zeroWindows, type Step } from '../../../src/lab/index.js';

const SLOW = { timeoutMs: 30_000 }; // a readiness wait on a busy machine

export default defineLab({
  name: 'window',
  title: 'A slow reader closes the window: zero window, window probes with backoff, window update',
  topic: 'tcp/loss',
  seconds: 5,
  needs: ['root', 'tcpdump', 'ethtool'],
  topology: { kind: 'veth' },
  // Program start-up and ethtool take seconds on a loaded machine (a load average of 90 seen here):
  // generous readiness waits, not longer measurements.
  timeoutMs: 90_000,
  params: {
    bytes: { type: 'int', default: 1_000_000, min: 300_000, max: 10_000_000, help: 'bytes the client sends; more than the receive buffer holds' },
    pauseMs: { type: 'int', default: 3200, min: 500, max: 8000, help: 'how long the reader stays paused after the window closed (the probes come at about 0.2, 0.6, 1.4, 3.0 s)' },
  },
  explanation: `The server application starts paused: it accepts the connection but reads nothing
(socket.pause(), and Node's own reads stopped). The client writes 1 MB. The server's kernel queues
what arrives in the socket's receive buffer and advertises the room left in every ACK (the window
field, scaled by the window-scale factor of its SYN-ACK); the client never sends beyond the right
edge (ack + window). Once the buffer is full the server advertises a window of zero: the client has
data but may not send it. It arms the persist timer instead and sends a zero-window probe when it
fires, first after the RTO (at least 200 ms), then at doubling intervals (0.2, 0.4, 0.8, 1.6 s ...);
Linux's probe is a segment with no data and an already-acknowledged sequence number (snd_una - 1),
which forces the receiver to answer with its current window (Wireshark calls it a keep-alive; a
1-byte probe it would call a zero-window probe). When the application reads again the server's
kernel sends a window update (the same ACK number, a window above zero) and the transfer resumes.`,

  async run(ctx) {
    await setOffloads(ctx, ['client', 'server'], { tso: false, gso: false, gro: false });
    const { bytes, pauseMs } = ctx.params;
    const server = ctx.program('server', 'tcp-bulk', { mode: 'listen', host: ctx.addr('server'), port: 0, paused: true, notifyAt: [bytes] }, 'server');
    const { port } = await server.next('listening', SLOW);
    ctx.mark('connect', { port });
    const client = ctx.program('client', 'tcp-bulk', { mode: 'connect', host: ctx.addr('server'), port, send: bytes }, 'client');
    const { local } = await client.next('connected', SLOW);
    // The client's kernel arms the persist timer when the window it was given is zero.
    await ctx.waitForSocket('client', (s) => s.local === local && s.timer === 'zero-window-probe', 30_000);
    ctx.mark('window closed');
    await ctx.sleep(pauseMs); // the slow application: its deliberate pause
    ctx.mark('reader resumes');
    server.send({ do: 'resume' });
    await server.next('reached', SLOW);
    client.send({ do: 'end' });
    await server.next('eof', SLOW);
    server.send({ do: 'end' });
    await client.next('closed', SLOW);
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'connect');
    if (!conn) return null;
    const f = connFacts(conn);
    const resumeAt = ctx.mark('reader resumes')?.t ?? Infinity;
    const zeros = zeroWindows(f, 'server');
    if (!setup.expect('the server advertised a zero window', zeros.length > 0, zeros.length, '> 0')) return null;
    const wscale = f.handshake.synAck?.seg.options.wscale ?? 0;
    // The sliding window: every data segment stays within ack + window of the server's latest segment.
    let edge = -1;
    const beyond: Step[] = [];
    for (const s of f.segments) {
      if (s.from === 'server') {
        if (s.relAck > 0) edge = s.relAck + s.window * 2 ** wscale;
      } else if (s.len > 1 && edge >= 0 && s.relSeq + s.len > edge) beyond.push(s);
    }
    const firstZero = zeros[0]!;
    const probes = windowProbes(f, 'client').filter((p) => p.absTime < resumeAt + 0.05);
    const update = f.segments.find((s) => s.from === 'server' && s.packet > firstZero.packet && s.window > 0 && s.absTime >= resumeAt - 0.01) ?? null;
    const dataAfter = update ? dataSegments(f, 'client').find((s) => s.packet > update.packet) ?? null : null;
    const sent = ctx.program('client').messages.find((m) => m.event === 'sent');
    const read = ctx.program('server').messages.find((m) => m.event === 'eof');
    const inFlightAtZero = f.segments.filter((s) => s.from === 'client' && s.len > 0 && s.packet < firstZero.packet).reduce((m, s) => Math.max(m, s.relSeq + s.len), 0) - 1;
    return {
      f, wscale, beyond, zeros, firstZero, probes, update, dataAfter, inFlightAtZero,
      maxWindow: f.segments.filter((s) => s.from === 'server' && !(s.flags & 2)).reduce((m, s) => Math.max(m, s.window * 2 ** wscale), 0),
      winProbes: delta(ctx.observations.client, 'TcpExt.TCPWinProbe'),
      toZero: delta(ctx.observations.server, 'TcpExt.TCPToZeroWindowAdv'),
      fromZero: delta(ctx.observations.server, 'TcpExt.TCPFromZeroWindowAdv'),
      probeTimerSeen: ctx.observations.client?.samples.some((x) => x.sockets.some((s) => s.state === TcpState.ESTABLISHED && s.timer === 'zero-window-probe')) ?? false,
      sentHash: (sent?.sha256 as string) ?? null, readHash: (read?.sha256 as string) ?? null, readTotal: Number(read?.total ?? NaN),
      zwMarks: withMark(f, 'zero-window', 'server').length,
      updateMarked: !!update?.seg.marks.includes('window-update'),
      keepAliveMarks: withMark(f, 'keep-alive', 'client').length,
      zwpMarks: withMark(f, 'zero-window-probe', 'client').length,
    };
  },

  claims: {
    T04: (x, ctx) => {
      const iv = x.probes.map((p) => p.interval);
      const ratios = iv.slice(1).map((v, i) => (i === 0 ? v / x.probes[0]!.sinceZero : v / iv[i]!)).filter(Number.isFinite);
      const first = x.probes[0] ?? null;
      const zeroByte = x.probes.every((p) => p.len === 0);
      return {
        checks: [
          check.eq('the client never sent data beyond the right edge of the advertised window (ack + window)', x.beyond.map((s) => s.packet), [], x.beyond.slice(0, 3).map((s) => s.packet)),
          check.ok('the paused reader\'s buffer filled and the server advertised a zero window', x.zeros.length > 0 && x.toZero >= 1, [x.firstZero.packet, x.toZero], 'a zero window; TCPToZeroWindowAdv >= 1', [x.firstZero.packet]),
          check.ok('while the window was zero the client sent only probes (no data)', x.probes.length >= 3 && x.probes.every((p) => p.len <= 1), x.probes.map((p) => [p.packet, p.len]), '>= 3 segments of 0 or 1 byte', x.probes.map((p) => p.packet)),
          check.within('the first probe came after about the RTO (200 ms minimum; later only as far as a busy machine delays a timer)', first?.sinceZero, 0.19, 1.0, [x.firstZero.packet, first?.packet]),
          // Each wait is timed from the previous probe's sending: a late probe lengthens its own wait, not the next.
          check.ok('each probe waited about twice as long as the one before (exponential backoff)', ratios.length >= 2 && ratios.every((r) => r >= 1.4 && r <= 3), ratios.map((r) => Math.round(r * 100) / 100), 'each 1.4..3', x.probes.map((p) => p.packet)),
          check.ok('the client counted its probes (TcpExt.TCPWinProbe)', x.winProbes >= x.probes.length, x.winProbes, `>= ${x.probes.length}`),
          check.ok('when the reader resumed, the server sent a window update and data flowed again', !!(x.update && x.dataAfter) && x.fromZero >= 1, [x.update?.packet, x.dataAfter?.packet, x.fromZero], 'a window > 0, then data; TCPFromZeroWindowAdv >= 1', [x.update?.packet, x.dataAfter?.packet]),
          check.eq('the server application read every byte, in order (sha256)', [x.readTotal, x.readHash], [ctx.params.bytes, x.sentHash]),
        ],
        evidence: `the server read nothing; its advertised window (largest ${x.maxWindow} bytes, scale 2^${x.wscale}) shrank as ${x.inFlightAtZero} bytes piled up, to zero in packet ${x.firstZero.packet}; the client never sent past ack + window. ` +
          `It then sent ${x.probes.length} window probes (packets ${x.probes.map((p) => p.packet).join(', ')}), ${secs(first?.sinceZero)} after the zero window and then ${iv.slice(1).map((v) => secs(v)).join(', ')} apart${zeroByte ? ', each with no data and seq = snd_una - 1' : ''} (TCPWinProbe +${x.winProbes}); ` +
          `the reader resumed ${secs(ctx.params.pauseMs / 1000)} after the window closed and the server's window update (packet ${x.update?.packet}, window ${x.update ? x.update.window * 2 ** x.wscale : '?'}) let the rest through: ${x.readTotal} bytes read, sha256 equal to the sender's`,
        ...(zeroByte
          ? {
              differs: {
                textbook: 'the sender probes a zero window with one byte of new data (RFC 9293 3.8.6.1)',
                linux: 'Linux probes with a pure ACK carrying an old sequence number (snd_una - 1, no data), which makes the receiver repeat its window; Wireshark labels it a keep-alive',
                measured: `${x.probes.length} probes of 0 bytes, ${secs(first?.sinceZero)} then ${iv.slice(1).map((v) => secs(v)).join(', ')} apart`,
              },
            }
          : {}),
      };
    },
  },

  story: (x, ctx) =>
    `The server application never read until ${secs(ctx.params.pauseMs / 1000)} after its window closed; its kernel buffered ${x.inFlightAtZero} bytes and advertised a zero window (packet ${x.firstZero.packet}). ` +
    `The client kept its data and probed instead: ${x.probes.map((p) => secs(p.sinceZero)).join(', ')} after the window closed, each wait twice the last. ` +
    `When the application read again, one window update (packet ${x.update?.packet}) reopened the flow ${ms(x.dataAfter && x.update ? x.dataAfter.time - x.update.time : null)} before the next data segment: flow control is the receiver's buffer speaking through the window field.`,
});
