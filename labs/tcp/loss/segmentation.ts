/**
 * Segmentation and acknowledgement: a 200 kB bulk transfer between two namespaces joined by a veth
 * pair (Ethernet MTU 1500), with the segmentation and receive offloads switched off so the capture
 * shows the segments a wire would carry. The sender's kernel cuts the stream at the MSS, the
 * receiver acknowledges by sequence number, cumulatively, and a lone segment waits for the delayed
 * ACK timer. Both ends hash the stream: the application read exactly what was written.
 */
import { ackCoverage, check, connFacts, theConnection, dataSegments, defineLab, ms, setOffloads, withMark, type OffloadChange, type Step } from '../../../src/lab/index.js';
import { pollCounter } from './stream.js';

const SLOW = { timeoutMs: 30_000 }; // a readiness wait on a busy machine

export default defineLab({
  name: 'segmentation',
  title: 'A bulk transfer cut at the MSS, acknowledged cumulatively, hashed end to end',
  topic: 'tcp/loss',
  seconds: 2,
  needs: ['root', 'tcpdump', 'ethtool'],
  topology: { kind: 'veth' },
  // Program start-up and ethtool take seconds on a loaded machine (a load average of 90 seen here):
  // generous readiness waits, not longer measurements.
  timeoutMs: 90_000,
  params: {
    bytes: { type: 'int', default: 200_000, min: 10_000, max: 5_000_000, help: 'bytes the client sends in one write()' },
    tail: { type: 'int', default: 100, min: 1, max: 1000, help: 'a small write after the bulk is read: one lone segment, to show the delayed ACK' },
    offloads: { type: 'boolean', default: false, help: 'leave TSO/GSO/GRO as the veth has them (on): the capture then shows super-segments of up to 64 KB' },
  },
  // Under load the receiver's last ACK of the bulk can lag by ~8 ms, which is enough for a tail-loss
  // probe (a spurious retransmission); the duplicate it delivers puts the receiver in quick-ACK mode
  // (an immediate ACK for the next 16 segments), hiding the delayed ACK this lab shows. The
  // retransmission lab shows the probes with the default.
  sysctls: { 'net.ipv4.tcp_early_retrans': 0 },
  explanation: `The client writes the whole block with one write(); its kernel cuts it into segments no
larger than the MSS the server announced in its SYN-ACK: MTU 1500 - 20 (IPv4 header) - 20 (TCP
header) = 1460 bytes, 1440 over IPv6 (40-byte header). Both sides use TCP timestamps, which take 12
bytes of options in every segment, so each full segment carries 1448 (IPv6: 1428) bytes of data.
A veth, like most NICs, offers TCP segmentation offload: with TSO/GSO on, the kernel hands the
device one "super-segment" of up to 64 KB that would be cut at the MSS only on the way out, and
a capture at either end of a veth sees it whole; GRO on the receiver glues wire segments back
together before the capture point. The lab switches TSO, GSO and GRO off in both namespaces
(ethtool -K), so the capture shows wire-size segments (--param offloads=true shows the other view).
The server acknowledges by sequence number: each ACK carries the next byte it expects, and covers
every segment before it (a cumulative ACK). Linux acknowledges at most every second full segment
when data streams in, often fewer when segments arrive in a burst, and a segment that arrives alone
waits for the delayed-ACK timer (40 ms at first, at most 200 ms) in case a reply could carry the
ACK. The handshake announced SACK (selective acknowledgement) on both sides: the loss labs show it
at work.`,

  async run(ctx) {
    const { bytes, tail } = ctx.params;
    const offloads = await setOffloads(ctx, ['client', 'server'], ctx.params.offloads ? {} : { tso: false, gso: false, gro: false });
    ctx.mark('offloads', { offloads });
    // A receiver idle for longer than its RTO (~200 ms) re-enters quick-ACK mode and acknowledges the
    // next segment at once; the runner's round trip before the tail can take that long on a busy
    // machine, so the server's minimum RTO is raised (it sends no data: nothing else changes).
    await ctx.sandbox.setSysctls({ 'net.ipv4.tcp_rto_min_us': 3_000_000 }, 'server');
    const total = bytes + tail;
    const server = ctx.program('server', 'tcp-bulk', { mode: 'listen', host: ctx.addr('server'), port: 0, notifyAt: [bytes, total] }, 'server');
    const { port } = await server.next('listening', SLOW);
    ctx.mark('connect', { port });
    const client = ctx.program('client', 'tcp-bulk', { mode: 'connect', host: ctx.addr('server'), port, send: bytes }, 'client');
    await client.next('connected', SLOW);
    await server.next('reached', { ...SLOW, where: (m) => m.at === bytes });
    // The server application stops reading; one small write now goes out alone and sits unread in
    // the server's receive queue: nothing makes its kernel acknowledge it at once (a read that
    // empties the queue would: Linux then ACKs a pushed segment straight away).
    server.send({ do: 'pause' });
    await server.next('paused', SLOW);
    const { local } = await client.next('connected', SLOW);
    // The server's delayed-ACK timer count around the tail: the kernel's word for which ACK it was
    // (a timer that fires while the socket is locked is counted when its deferred handler runs).
    const DACK = 'TcpExt.DelayedACKs';
    const dackBefore = (await ctx.counters('server'))[DACK] ?? 0;
    ctx.mark('tail');
    client.send({ do: 'send', bytes: tail });
    await ctx.waitForSocket('server', (s) => s.remote === local && s.rxQueue >= tail, 30_000);
    // Then the timer (40-200 ms; 300 ms at most), and the ACK's arrival at the client.
    const timer = (await pollCounter(ctx, 'server', DACK, dackBefore + 1, 300)) - dackBefore;
    await ctx.waitForSocket('client', (s) => s.local === local && s.txQueue === 0, 30_000); // acknowledged
    ctx.mark('tail-acked', { delayedAcks: timer });
    server.send({ do: 'resume' });
    await server.next('reached', { ...SLOW, where: (m) => m.at === total });
    client.send({ do: 'end' });
    await server.next('eof', SLOW);
    server.send({ do: 'end' });
    await client.next('eof', SLOW);
    await client.next('closed', SLOW);
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'connect');
    if (!conn) return null;
    const f = connFacts(conn);
    const { syn, synAck } = f.handshake;
    if (!setup.expect('the handshake was captured', !!(syn && synAck), [syn?.packet, synAck?.packet])) return null;
    const { bytes, tail } = ctx.params;
    const sent = ctx.program('client').messages.filter((m) => m.event === 'sent');
    const read = ctx.program('server').messages.find((m) => m.event === 'eof') ?? null;
    const offloads = (ctx.mark('offloads')?.data?.offloads ?? []) as OffloadChange[];
    const data = dataSegments(f, 'client');
    const retrans = data.filter((s) => s.seg.marks.some((m) => m.includes('retransmission')));
    const first = data.filter((s) => !retrans.includes(s));
    const ipHeader = ctx.family === 6 ? 40 : 20;
    const mtu = 1500;
    const tsBytes = syn!.seg.options.timestamps && synAck!.seg.options.timestamps ? 12 : 0;
    const mss = synAck!.seg.options.mss ?? null; // what the client may send: the server's MSS
    const payload = mss === null ? null : mss - tsBytes;
    const tailSeg = first.find((s) => s.relSeq === 1 + bytes) ?? null;
    const cov = ackCoverage(f, 'server');
    const tailAck = tailSeg ? cov.find((c) => c.segments.includes(tailSeg)) ?? null : null;
    const bulkAcks = cov.filter((c) => c.segments.length > 0 && c.segments.every((s) => s.relSeq < 1 + bytes));
    const biggest = bulkAcks.reduce<(typeof cov)[number] | null>((b, c) => (!b || c.bytes > b.bytes ? c : b), null);
    return {
      f, syn: syn!, synAck: synAck!, bytes, tail, total: bytes + tail, mss, mtu, ipHeader, tsBytes, payload, data, first, retrans,
      superSegs: payload === null ? [] : first.filter((s) => s.len > payload),
      fullSegs: payload === null ? [] : first.filter((s) => s.len === payload),
      firstBytes: first.reduce((n, s) => n + s.len, 0),
      sentHash: (sent[sent.length - 1]?.sha256 as string | undefined) ?? null,
      sentTotal: Number(sent[sent.length - 1]?.total ?? NaN),
      readHash: (read?.sha256 as string | undefined) ?? null,
      readTotal: Number(read?.total ?? NaN),
      offloads, tailSeg, tailAck, bulkAcks, biggest, cov,
      tailTimer: Number(ctx.mark('tail-acked')?.data?.delayedAcks ?? NaN), // TcpExt.DelayedACKs while the tail waited
      dupAcks: withMark(f, 'dup-ack').length,
    };
  },

  claims: {
    T01: (x, ctx) => {
      const short = x.first.filter((s) => s !== x.tailSeg && s.len !== x.payload);
      const want = x.mtu - x.ipHeader - 20;
      const maxLen = x.first.reduce((m, s) => Math.max(m, s.len), 0);
      const offOn = ctx.params.offloads;
      const checks = [
        check.eq(`the server's SYN-ACK announced MSS ${want} (MTU ${x.mtu} - ${x.ipHeader}-byte IP header - 20-byte TCP header)`, x.mss, want, [x.synAck.packet]),
        check.eq('both sides use TCP timestamps (12 bytes of options in every segment)', x.tsBytes, 12, [x.syn.packet, x.synAck.packet]),
        check.eq('the segments, put together, are the whole write (first transmissions)', x.firstBytes, x.total, [x.first[0]?.packet, x.first[x.first.length - 1]?.packet]),
        check.eq('the server application read every byte, in order: its sha256 equals the sender\'s', [x.readTotal, x.readHash], [x.sentTotal, x.sentHash]),
      ];
      if (offOn) {
        return {
          checks: [...checks, check.ok('with the offloads on, the capture shows super-segments larger than the MSS', x.superSegs.length > 0, maxLen, `> ${x.payload}`, x.superSegs.slice(0, 3).map((s) => s.packet))],
          evidence: `with TSO/GSO on, ${x.superSegs.length} of the ${x.first.length} data segments the capture shows are larger than the MSS (up to ${maxLen} bytes, packet ${x.superSegs.find((s) => s.len === maxLen)?.packet}): the kernel handed the veth super-segments, cut at ${x.payload} bytes only where a real NIC would cut them`,
          differs: { textbook: 'TCP cuts the data into segments of at most the MSS', linux: 'with segmentation offload TCP hands the device super-segments of up to 64 KB, cut at the MSS by GSO/the NIC after the capture point on the sender (and glued again by GRO on the receiver)', measured: `${x.superSegs.length} super-segments, the largest ${maxLen} bytes` },
        };
      }
      return {
        checks: [
          ...checks,
          check.ok(`the bulk needed at least ${Math.ceil(x.bytes / (x.payload ?? 1))} segments`, x.first.length > Math.floor(x.bytes / (x.payload ?? 1)), x.first.length, `> ${Math.floor(x.bytes / (x.payload ?? 1))}`),
          check.eq(`no segment carries more than MSS - 12 = ${x.payload} bytes (TSO/GSO/GRO off: no super-segments)`, x.superSegs.map((s) => s.packet), [], x.superSegs.slice(0, 3).map((s) => s.packet)),
          // Not all: when the send buffer fills mid-write the kernel may push a shorter segment.
          check.ok(`at least 90% of the segments a ${x.bytes}-byte write needs are full: ${x.payload} bytes`, x.fullSegs.length >= Math.floor(0.9 * Math.floor(x.bytes / (x.payload ?? 1))), x.fullSegs.length, `>= ${Math.floor(0.9 * Math.floor(x.bytes / (x.payload ?? 1)))}`, [x.fullSegs[0]?.packet]),
        ],
        evidence: `the server's SYN-ACK (packet ${x.synAck.packet}) announced MSS ${x.mss}; with 12 bytes of timestamps per segment the client cut its ${x.bytes}-byte write into ${x.first.length - 1} segments, ${x.fullSegs.length} of them full (${x.payload} bytes, first in packet ${x.fullSegs[0]?.packet}) ` +
          `and ${short.length} shorter (${short.slice(0, 4).map((s) => `${s.len} bytes in packet ${s.packet}`).join(', ')}${short.length > 4 ? ', …' : ''}), then the ${x.tail}-byte tail (packet ${x.tailSeg?.packet}); ${x.retrans.length} retransmitted; the server read ${x.readTotal} bytes with sha256 ${x.readHash?.slice(0, 12)}…, the same as the sender's`,
      };
    },
    T02: (x) => {
      const ackNumbers = new Set<number>();
      for (const s of x.first) ackNumbers.add(s.relSeq + s.len);
      const off = x.cov.filter((c) => c.ack.relAck <= x.total + 1 && !ackNumbers.has(c.ack.relAck));
      const lastAck = x.cov[x.cov.length - 1] ?? null;
      const tailDelay = x.tailAck?.delay ?? null;
      const mssSegs = Math.ceil(x.bytes / (x.payload ?? 1));
      return {
        checks: [
          check.ok('SACK was permitted in the SYN and the SYN-ACK', !!(x.syn.seg.options.sackPermitted && x.synAck.seg.options.sackPermitted), [x.syn.seg.options.sackPermitted, x.synAck.seg.options.sackPermitted], [true, true], [x.syn.packet, x.synAck.packet]),
          check.eq('every ACK number the server sent is the end of a data segment: the next byte it expects', off.map((c) => c.ack.packet), [], off.map((c) => c.ack.packet)),
          check.eq(`the last ACK acknowledges all ${x.total} bytes and the FIN (relative ack ${x.total + 2})`, lastAck?.ack.relAck ?? null, x.total + 2, [lastAck?.ack.packet]),
          check.ok(`the server sent fewer ACKs than the ${mssSegs} MSS-size segments of the bulk (cumulative ACKs)`, x.bulkAcks.length < mssSegs, x.bulkAcks.length, `< ${mssSegs}`),
          check.ok('one ACK acknowledged at least two full segments\' worth of data at once', (x.biggest?.bytes ?? 0) >= 2 * (x.payload ?? Infinity), x.biggest?.bytes ?? 0, `>= ${2 * (x.payload ?? 0)} bytes`, [x.biggest?.ack.packet]),
          // The kernel's counter says which ACK it was, the capture how long it waited. (Runs that saw
          // 10-30 ms had resumed the reader early, on a stale "acknowledged": its read sent the ACK.)
          ...(x.retrans.length === 0
            ? [
                check.ok('the lone tail segment, left unread, was acknowledged by the delayed-ACK timer (TcpExt.DelayedACKs +1 on the server while it waited)', x.tailTimer >= 1, x.tailTimer, '>= 1', [x.tailSeg?.packet, x.tailAck?.ack.packet]),
                check.within('the delayed ACK came 30-250 ms after the tail (Linux: 40 ms at first, at most 200 ms, plus a busy machine\'s lag)', tailDelay, 0.03, 0.25, [x.tailSeg?.packet, x.tailAck?.ack.packet]),
              ]
            : [
                check.ok(`the lone tail segment was acknowledged by the delayed-ACK timer, or at once: the retransmission (packet ${x.retrans[0]!.packet}) delivered a duplicate, which puts Linux's receiver in quick-ACK mode`, tailDelay !== null && tailDelay <= 0.25, tailDelay, '<= 0.25 s', [x.retrans[0]!.packet, x.tailSeg?.packet, x.tailAck?.ack.packet]),
              ]),
        ],
        evidence: `${x.bulkAcks.length} ACKs for the ${x.first.length - 1} segments of the bulk; the largest, packet ${x.biggest?.ack.packet} (ack ${x.biggest?.ack.relAck}), acknowledged ${x.biggest?.segments.length} segments (${x.biggest?.bytes} bytes) at once, ${ms(x.biggest?.delay)} after the newest of them; ` +
          `the lone ${x.tail}-byte tail (packet ${x.tailSeg?.packet}), which the paused server did not read, was acknowledged ${ms(tailDelay)} later (packet ${x.tailAck?.ack.packet})${tailHow(x)}; SACK permitted in packets ${x.syn.packet} and ${x.synAck.packet}; ${x.dupAcks} duplicate ACKs (no loss)`,
        differs: {
          textbook: 'the receiver sends an acknowledgement for each segment it receives',
          linux: 'one cumulative ACK covers several segments (at most every second full segment is acknowledged, fewer in a burst), and a lone segment waits for the delayed-ACK timer',
          measured: `${x.bulkAcks.length} ACKs for ${x.first.length - 1} segments, up to ${x.biggest?.segments.length} per ACK; a lone segment ACKed after ${ms(tailDelay)}`,
        },
      };
    },
  },

  checks: (x) => [
    check.ok('the offloads were switched off on both veth ends (ethtool -k read back)', x.offloads.every((o) => o.after.tso === false && o.after.gso === false && o.after.gro === false) || x.superSegs.length > 0, x.offloads.map((o) => `${o.role}: ${JSON.stringify(o.after)}`), 'tso, gso, gro off (or a run with offloads on)'),
  ],

  story: (x, ctx) => {
    const seg = (s: Step | null | undefined) => (s ? `packet ${s.packet}` : '?');
    return `The client wrote ${x.bytes} bytes at once; ${ctx.params.offloads ? 'with the offloads on, the capture saw' : 'with TSO/GSO/GRO off, the capture saw'} ${x.first.length - 1} data segments for it, ` +
      `${x.fullSegs.length} of them carrying ${x.payload} bytes: MSS ${x.mss} less 12 bytes of timestamps. The server acknowledged them with ${x.bulkAcks.length} ACKs, one of which (${seg(x.biggest?.ack)}) covered ${x.biggest?.segments.length} segments: ` +
      `an ACK says "everything before this byte", not "this segment". The ${x.tail}-byte write that followed went out alone, and the server application did not read it, and its kernel held the ACK for ${ms(x.tailAck?.delay)}${x.tailTimer >= 1 ? ' (the delayed-ACK timer, TcpExt.DelayedACKs +1; had the application read it at once, the read would have sent the ACK)' : x.retrans.length > 0 ? ' (no timer: a duplicate segment earlier had put the receiver in quick-ACK mode)' : ' (not the delayed-ACK timer: TcpExt.DelayedACKs did not move)'}. ` +
      `The server read ${x.readTotal} bytes whose sha256 matched the sender's: reassembled whole and in order.`;
  },
});

/** How the tail's ACK came, by the server's TcpExt.DelayedACKs counter. */
function tailHow(x: { tailTimer: number; retrans: Step[] }): string {
  if (x.tailTimer >= 1) return `: a delayed ACK (the server's delayed-ACK timer fired: TcpExt.DelayedACKs +${x.tailTimer})`;
  if (x.retrans.length > 0) return `: at once, in quick-ACK mode after the duplicate of packet ${x.retrans[0]!.packet}`;
  return ': not by the delayed-ACK timer (TcpExt.DelayedACKs +0)';
}
