/**
 * Half-close: the client sends its request and shuts down its sending side (socket.end(): FIN);
 * the server then streams a megabyte back, paced over about a second, and closes only after the
 * last byte. The client's socket sits in FIN_WAIT_2 the whole time, still reading; it checks a
 * sha256 of every byte against the server's.
 */
import { check, connFacts, theConnection, defineLab, enteredBy, isPureAck, ms, observedStates, secs, TcpState } from '../../../src/lab/index.js';
import { WirelabError } from '../../../src/errors.js';
import type { Observation } from '../../../src/observe/types.js';

/**
 * When the socket with this local endpoint entered `state` and left it, by the sampled socket table:
 * the first sample showing it, and the first later sample not showing it (identical consecutive
 * samples are collapsed, so a state's last sample is not when it ended).
 */
function span(obs: Observation | undefined, local: string, state: string): { from: number; to: number; samples: number } | null {
  let from = NaN;
  let samples = 0;
  for (const sample of obs?.samples ?? []) {
    const inState = sample.sockets.some((s) => s.local === local && s.state === state);
    if (inState) {
      if (!samples) from = sample.time;
      samples++;
    } else if (samples) {
      return { from, to: sample.time, samples };
    }
  }
  return null;
}

export default defineLab({
  name: 'half-close',
  title: 'Half-close: after the client\'s FIN the server keeps sending, and every byte arrives',
  topic: 'tcp/close',
  seconds: 2,
  timeoutMs: 90_000, // a few seconds here; starting each node program took seconds on a machine loaded to 70
  needs: ['root'],
  topology: { kind: 'loopback' },
  params: {
    bytes: { type: 'int', default: 1_048_576, min: 1024, max: 64 * 1_048_576, help: 'how many bytes the server sends after the client\'s FIN' },
    chunk: { type: 'int', default: 32_768, min: 512, max: 1_048_576, help: 'bytes per write' },
    gapMs: { type: 'int', default: 30, min: 0, max: 1000, help: 'the server application\'s pause between two writes (it talks for about bytes/chunk x gapMs)' },
  },
  explanation: `A FIN closes one direction only. The client calls socket.end() (shutdown(SHUT_WR)) right after its
request: its FIN says "I will send nothing more", not "I am gone". The server's kernel acknowledges the
FIN and the server application keeps writing: here a megabyte of random bytes in chunks, paced by the
application. The client's kernel acknowledges every segment and its application reads every byte,
while its socket sits in FIN_WAIT_2. FIN_WAIT_2 ends only with the server's FIN, however long the server
talks: tcp_fin_timeout (60 s) limits FIN_WAIT_2 only for an orphaned socket (one the application has
closed completely), not for a half-closed one that is still reading. Both sides hash what they sent and
read (sha256); the hashes match.`,

  async run(ctx) {
    const { bytes, chunk, gapMs } = ctx.params;
    const talkS = (Math.ceil(bytes / chunk) * gapMs) / 1000;
    if (talkS > 60) throw new WirelabError('BAD_USAGE', `half-close: ${Math.ceil(bytes / chunk)} writes ${gapMs} ms apart would talk for ${talkS.toFixed(0)} s, past the lab's 60 s: raise --param chunk or lower --param gapMs`);
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 }, 'server');
    const port = Number((await server.next('listening', { timeoutMs: 30_000 })).port);
    ctx.mark('port', { port });
    const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port, hashReads: true }, 'client');
    await client.next('connected', { timeoutMs: 30_000 });
    client.send({ do: 'write', bytes: 100 }); // the request
    await server.next('data');
    client.send({ do: 'end' }); // FIN: the client is done sending, not done reading
    await server.next('end');
    ctx.mark('server starts talking');
    server.send({ do: 'stream', bytes, chunk, gapMs, end: true });
    await server.next('streamed', { timeoutMs: talkS * 1000 + 20_000 });
    await client.next('end', { timeoutMs: 10_000 });
    await client.next('closed');
    await ctx.waitForSocket('client', (s) => s.state === TcpState.TIME_WAIT && s.remote === ctx.endpoint('server', port), 10_000);
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'port');
    if (!conn) return null;
    const f = connFacts(conn);
    const { firstFin, secondFin, firstFinAck } = f.close;
    if (!setup.expect('the client sent the first FIN and the server the second', firstFin?.from === 'client' && secondFin?.from === 'server', [firstFin?.from, secondFin?.from], ['client', 'server'])) return null;
    const fin1 = firstFin!;
    const fin2 = secondFin!;
    const after = f.segments.filter((s) => s.from === 'server' && s.len > 0 && s.packet > fin1.packet);
    const clientAcks = f.segments.filter((s) => s.from === 'client' && isPureAck(s) && s.packet > fin1.packet && s.packet < fin2.packet);
    const cmsgs = ctx.program('client').messages;
    const endAt = cmsgs.findIndex((m) => m.event === 'ending');
    const readAfterFin = cmsgs.slice(endAt + 1).filter((m) => m.event === 'data').reduce((n, m) => n + Number(m.bytes), 0);
    const clientEnd = cmsgs.find((m) => m.event === 'end') ?? null;
    const streamed = ctx.program('server').messages.find((m) => m.event === 'streamed') ?? null;
    return {
      ...f, fin1, fin2, firstFinAck, after, clientAcks, readAfterFin,
      sentHash: streamed ? String(streamed.sha256) : null,
      readHash: clientEnd ? String(clientEnd.sha256) : null,
      readTotal: clientEnd ? Number(clientEnd.total) : null,
      dataBytes: after.reduce((n, s) => n + s.len, 0),
      fw2: span(ctx.observation, f.conn.client, TcpState.FIN_WAIT_2),
      clientStates: observedStates(ctx.observation, f.conn.client, f.conn.server),
    };
  },

  claims: {
    C03: (f, ctx) => {
      const { bytes } = ctx.params;
      const first = f.after[0];
      const last = f.after[f.after.length - 1];
      const talk = first && last ? last.time - first.time : null;
      const fw2Capture = f.firstFinAck ? f.fin2.time - f.firstFinAck.time : null; // FIN_WAIT_2 by the packets
      const fw2Proc = f.fw2 ? f.fw2.to - f.fw2.from : null;
      const uPlus1 = (f.fin1.seq + 1) >>> 0;
      return {
        checks: [
          check.eq(`the server sent all ${bytes} bytes after the client's FIN`, f.dataBytes, bytes, [first?.packet, last?.packet]),
          check.ok('every one of those data segments carried ack = u+1 (the FIN acknowledged, the direction still open)', f.after.every((s) => s.ack === uPlus1), f.after.find((s) => s.ack !== uPlus1)?.packet ?? null, `all ack ${uPlus1}`),
          check.ok("the server's FIN came after its last data", !!last && f.fin2.packet >= last.packet, [last?.packet, f.fin2.packet], 'data, then FIN', [last?.packet, f.fin2.packet]),
          check.ok("the client's kernel kept acknowledging data after its own FIN", f.clientAcks.length > 0, f.clientAcks.length, '> 0', f.clientAcks.slice(0, 3).map((s) => s.packet)),
          check.eq('the client application read every byte after it had called end()', f.readAfterFin, bytes),
          check.ok('the sha256 of what the client read equals the sha256 of what the server wrote', f.readHash !== null && f.readHash === f.sentHash, f.readHash, f.sentHash),
          check.eq("the client went FIN_WAIT_2 on the ACK of its FIN, and TIME_WAIT only when it acknowledged the server's FIN (analysis)", [enteredBy(f.conn, 'client', 'FIN_WAIT_2'), enteredBy(f.conn, 'client', 'TIME_WAIT')], [f.firstFinAck?.packet ?? null, f.close.lastAck?.packet ?? null]),
          check.ok('FIN_WAIT_2 lasted as long as the server talked (capture: from the ACK of the FIN to the server FIN)', talk !== null && fw2Capture !== null && fw2Capture >= talk, [talk, fw2Capture].map((x) => (x === null ? null : Math.round(x * 1000) / 1000)), 'FIN_WAIT_2 >= talk'),
          // The sampler reads every ~10 ms but a loaded machine starves it for whole seconds: check what it saw, not how often.
          check.ok('/proc/net/tcp showed FIN_WAIT_2 while the data flowed, and the socket left it only at the server FIN', f.fw2 !== null && !!first && !!last && f.fw2.from <= last.absTime && f.fw2.to >= f.fin2.absTime, f.fw2 ? [f.fw2.from - f.fin1.absTime, f.fw2.to - f.fin1.absTime].map((x) => Math.round(x * 1000) / 1000) : null, `seen by ${last ? Math.round((last.absTime - f.fin1.absTime) * 1000) / 1000 : '?'} s, left after ${Math.round((f.fin2.absTime - f.fin1.absTime) * 1000) / 1000} s`),
        ],
        evidence: `packet ${f.fin1.packet}: the client's FIN (seq u = ${f.fin1.seq}); then ${f.after.length} server data segments (packets ${first?.packet}..${last?.packet}, ${f.dataBytes} bytes over ${secs(talk)}, each ack = u+1) ` +
          `and ${f.clientAcks.length} pure ACKs from the client; the server's FIN only in packet ${f.fin2.packet}. The client read ${f.readAfterFin} bytes after its end(), sha256 ${f.readHash?.slice(0, 16)}... = the server's. ` +
          `FIN_WAIT_2 lasted ${secs(fw2Capture)} by the packets; /proc/net/tcp showed it from ${secs(f.fw2 ? f.fw2.from - f.fin1.absTime : null)} to ${secs(f.fw2 ? f.fw2.to - f.fin1.absTime : null)} after the FIN (${secs(fw2Proc)})`,
      };
    },
  },

  story: (f, ctx) =>
    `The client said it was done at ${f.fin1.time.toFixed(3)} s (FIN, packet ${f.fin1.packet}), yet it received ${f.dataBytes} bytes afterwards in ${f.after.length} segments ` +
    `over ${secs(f.after.length ? f.after[f.after.length - 1]!.time - f.after[0]!.time : null)}, the server writing ${ctx.params.chunk} bytes every ${ctx.params.gapMs} ms. ` +
    `Its socket stayed in FIN_WAIT_2 for ${secs(f.firstFinAck ? f.fin2.time - f.firstFinAck.time : null)} (/proc/net/tcp: ${secs(f.fw2 ? f.fw2.to - f.fw2.from : null)}), acknowledging as it read, ` +
    `and the sha256 of what it read matched what the server wrote. Only the server's FIN (packet ${f.fin2.packet}, ${ms(f.fin2.time - f.fin1.time)} after the client's) ended it.`,
});
