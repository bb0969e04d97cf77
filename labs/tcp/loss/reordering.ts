/**
 * Out-of-order arrival: one data segment of a stream is dropped once at the server's input, so the
 * segments after it reach TCP before it. The receiver keeps them (its out-of-order queue), tells
 * the sender with SACK blocks while its cumulative ACK stays at the hole, and when the
 * retransmission fills the hole, acknowledges everything at once. The application reads the bytes
 * in order: the SHA-256 of what it read equals the sender's.
 */
import { blockText, check, connFacts, theConnection, defineLab, delta, inBlock, ms, sackedAbove, type Step } from '../../../src/lab/index.js';
import { openStream, sendAll, short, streamCheck, wireSizeSegments } from './stream.js';

export default defineLab({
  name: 'reordering',
  title: 'Segments after a hole wait in the receiver: SACK names them, the application reads in order',
  topic: 'tcp/loss',
  seconds: 2,
  needs: ['root', 'tcpdump', 'nft', 'ethtool'],
  topology: { kind: 'veth' },
  params: {
    bytes: { type: 'int', default: 30000, min: 10000, max: 1_000_000, help: 'bytes the client sends (about 1448 per segment)' },
    hole: { type: 'int', default: 3, min: 1, max: 6, help: 'which data segment (1 = the first) the server\'s input drops once' },
  },
  sysctls: { 'net.ipv4.tcp_no_metrics_save': 1 },
  timeoutMs: 60_000, // its own work takes ~1 s; a machine with a load of 70 stretched program start-ups past 20 s
  explanation: `The client sends a stream of a known size; an nftables rule at the server's input drops one
of its data segments once (the capture on the server's interface still shows it: tcpdump sees the packet
before the rule drops it). The segments behind it arrive first, so for TCP they are out of order. Linux
does not throw them away: it keeps them in the socket's out-of-order queue (TcpExt.TCPOFOQueue), keeps
acknowledging the last byte before the hole (duplicate ACKs) and names what it holds in SACK blocks
(RFC 2018). The sender resends only the missing segment; the receiver's next ACK jumps over everything
it was holding, and the application, which never saw the gap, reads every byte in order. Offloads are
off on the veth pair (TSO/GSO), so every captured segment is one wire-size segment. (Real reordering with
netem's delay needs sch_netem, which this kernel does not have: a drop makes the same hole.)`,

  async run(ctx) {
    await wireSizeSegments(ctx);
    const s = await openStream(ctx);
    await ctx.fault('hole', { at: 'server', match: { from: 'client', dport: s.port, tcp: 'data' }, drop: { nth: ctx.params.hole, count: 1 } });
    await sendAll(s, ctx.params.bytes, 20_000);
    await s.client.next('closed', { timeoutMs: 20_000 });
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'stream', 'the reader');
    if (!conn) return null;
    const f = connFacts(conn);
    const dropped = ctx.faults.find((x) => x.name === 'hole')?.dropped ?? 0;
    if (!setup.expect('the fault dropped exactly one data segment', dropped === 1, dropped, 1)) return null;
    const data = f.segments.filter((x) => x.from === 'client' && x.len > 0);
    const firsts: Step[] = [];
    for (const d of data) if (!firsts.some((x) => x.seq === d.seq)) firsts.push(d);
    const hole = firsts[ctx.params.hole - 1] ?? null;
    const refill = hole ? data.find((x) => x.packet > hole.packet && x.seq === hole.seq) ?? null : null;
    if (!setup.expect('the dropped segment was captured and sent again', !!(hole && refill), [hole?.packet, refill?.packet])) return null;
    const h = hole!;
    const r = refill!;
    const holeEnd = h.relSeq + h.len;
    const later = data.filter((x) => x.packet > h.packet && x.packet < r.packet && x.relSeq >= holeEnd);
    const laterEnd = later.reduce((m, x) => Math.max(m, x.relSeq + x.len), holeEnd);
    const acks = f.segments.filter((x) => x.from === 'server' && x.packet > h.packet && x.packet < r.packet);
    const sackAcks = acks.filter((a) => sackedAbove(a).length > 0);
    const lastSack = sackAcks[sackAcks.length - 1] ?? null;
    const heldAck = acks.reduce((m, a) => Math.max(m, a.relAck), 0);
    const jump = f.segments.find((x) => x.from === 'server' && x.packet > r.packet) ?? null;
    const clientRetx = f.retransmissions.filter((x) => x.from === 'client' && x.len > 0);
    const stream = streamCheck(ctx);
    return {
      f, hole: h, refill: r, holeEnd, later, laterEnd, acks, sackAcks, lastSack, heldAck, jump, clientRetx, stream,
      unsacked: later.filter((x) => !sackAcks.some((a) => sackedAbove(a).some((b) => inBlock(b, x)))),
      refillKind: f.retransmissions.find((x) => x.packet === r.packet)?.kind ?? null,
      dupAcks: acks.filter((a) => a.seg.marks.includes('dup-ack')).length,
      outOfOrder: f.segments.filter((x) => x.seg.marks.includes('out-of-order')).map((x) => x.packet),
      ofoQueue: delta(ctx.observations.server, 'TcpExt.TCPOFOQueue'),
      sackRecovery: delta(ctx.observations.client, 'TcpExt.TCPSackRecovery'),
      fastRetrans: delta(ctx.observations.client, 'TcpExt.TCPFastRetrans'),
    };
  },

  claims: {
    T05: (x) => ({
      checks: [
        check.ok('segments behind the hole arrived before it was filled', x.later.length >= 1, x.later.length, '>= 1', x.later.map((s) => s.packet)),
        check.eq("the receiver's cumulative ACK stayed at the hole's first byte until the retransmission", x.heldAck, x.hole.relSeq, x.acks.map((a) => a.packet)),
        check.ok('its ACKs named every segment behind the hole in SACK blocks', x.sackAcks.length >= 1 && x.unsacked.length === 0, x.unsacked.map((s) => s.packet), [], [x.lastSack?.packet]),
        check.eq('the last SACK block before the retransmission began right after the hole', x.lastSack ? sackedAbove(x.lastSack)[0]?.[0] : null, x.holeEnd, [x.lastSack?.packet]),
        check.ok('the kernel queued them out of order (TcpExt.TCPOFOQueue rose at the server)', x.ofoQueue >= 1, x.ofoQueue, '>= 1'),
        check.ok('only the missing segment was sent again: the segments behind the hole were kept, not discarded', x.clientRetx.every((s) => s.seq === x.hole.seq), x.clientRetx.map((s) => s.packet), [x.refill.packet]),
        check.ok('the first ACK after the retransmission covered everything held (it jumped over the SACKed data)', !!x.jump && x.jump.relAck >= x.laterEnd, x.jump?.relAck ?? null, `>= ${x.laterEnd}`, [x.refill.packet, x.jump?.packet]),
        check.eq('the application read as many bytes as were sent', x.stream.read, x.stream.sent),
        check.eq("the SHA-256 of what it read equals the sender's (every byte, in order)", x.stream.readHash, x.stream.sentHash),
      ],
      evidence: `packet ${x.hole.packet} (bytes ${x.hole.relSeq}..${x.holeEnd - 1}) was dropped at the server's input; ${x.later.length} segments behind it (packets ${x.later[0]?.packet}..${x.later[x.later.length - 1]?.packet}) ` +
        `arrived first and went to the out-of-order queue (TCPOFOQueue +${x.ofoQueue}); the server's ${x.acks.length} ACKs meanwhile kept ack = ${x.heldAck} (${x.dupAcks} marked duplicate) ` +
        `with SACK blocks up to ${blockText(x.lastSack ? sackedAbove(x.lastSack)[0] : null)} (packet ${x.lastSack?.packet}); the client resent only the missing segment (packet ${x.refill.packet}, ${x.refillKind}, ` +
        `${ms(x.refill.time - x.hole.time)} after the original) and the next ACK (packet ${x.jump?.packet}) jumped to ${x.jump?.relAck}; ` +
        `the application read ${x.stream.read} of ${x.stream.sent} bytes, sha256 ${short(x.stream.readHash)} = the sender's`,
    }),
  },

  checks: (x) => [
    check.ok('the stream was intact end to end (count and SHA-256)', x.stream.intact, [x.stream.read, short(x.stream.readHash)], [x.stream.sent, short(x.stream.sentHash)]),
  ],

  story: (x) =>
    `The server's kernel got packet ${x.hole.packet}'s bytes ${x.hole.relSeq}..${x.holeEnd - 1} last: the fault took the first copy, and the ${x.later.length} segments behind it ` +
    `arrived over the next ${ms(x.later.length ? x.later[x.later.length - 1]!.time - x.hole.time : null)}, all before the retransmission. Instead of discarding them, it held them and told the client so: ` +
    `every ACK still said ${x.heldAck} ("I have everything before the hole"), while the SACK blocks said what lay beyond it (${blockText(x.lastSack ? sackedAbove(x.lastSack)[0] : null)}). ` +
    `The client (TcpExt.TCPSackRecovery +${x.sackRecovery}, TCPFastRetrans +${x.fastRetrans}) resent just that segment, ${ms(x.refill.time - x.hole.time)} after the original, and the ACK that followed jumped to ${x.jump?.relAck}. ` +
    `The reading application never saw the gap: ${x.stream.read} bytes, SHA-256 ${short(x.stream.readHash)}, the same as the sender's.` +
    (x.outOfOrder.length ? ` The analyzer marked packets ${x.outOfOrder.join(', ')} out-of-order.` : ' In this capture nothing is marked out-of-order: the dropped copy was captured in order before the rule dropped it; the analyzer (and Wireshark) mark the late copy a retransmission.'),
});
