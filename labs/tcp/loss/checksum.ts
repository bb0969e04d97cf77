/**
 * A bad checksum: one of the client's own data segments leaves with a TCP checksum that does not
 * match (an nftables rule in the client's namespace overwrites the checksum field's seed before the
 * kernel completes the sum in software), as if a bit had flipped on the wire. The server's kernel
 * drops it before TCP looks at it (Tcp.InCsumErrors, drop reason TCP_CSUM), never acknowledges it,
 * and the bytes arrive through the client's retransmission: the application's SHA-256 matches.
 */
import { check, connFacts, theConnection, defineLab, delta, inBlock, ms, sackedAbove, type Step } from '../../../src/lab/index.js';
import { openStream, sendAll, short, streamCheck, wireSizeSegments } from './stream.js';

const TABLE = 'wirelab_corrupt';

export default defineLab({
  name: 'checksum',
  title: 'A segment with a bad checksum: dropped, not acknowledged, sent again',
  topic: 'tcp/loss',
  seconds: 2,
  needs: ['root', 'tcpdump', 'nft', 'ethtool'],
  topology: { kind: 'veth' },
  params: {
    bytes: { type: 'int', default: 30000, min: 10000, max: 1_000_000, help: 'bytes the client sends (about 1448 per segment)' },
    segment: { type: 'int', default: 3, min: 1, max: 6, help: 'which data segment (1 = the first) leaves with a bad checksum' },
  },
  sysctls: { 'net.ipv4.tcp_no_metrics_save': 1 },
  timeoutMs: 60_000, // its own work takes ~1 s; a machine with a load of 70 stretched program start-ups past 20 s
  explanation: `On a veth pair Linux normally never computes TCP checksums: tx checksumming is "offloaded" to
a device that has no wire, so a capture at the sender shows every checksum "incorrect" and the receiver
trusts the packet without looking. This lab switches tx checksumming off on the client (ethtool -K eth0 tx
off; TSO and GSO go with it), so the client's kernel computes each checksum and the server's verifies it.
An nftables rule in the client's namespace then spoils one data segment: it overwrites the checksum
field at postrouting, where it still holds the seed the kernel finishes the sum from, so that segment
leaves with a checksum that cannot match, as if a bit had flipped on the way. The server's capture shows
the segment arrive; its kernel checks the sum, drops it (Tcp.InCsumErrors, drop reason TCP_CSUM) and
sends nothing for it. The segments behind it arrive and are SACKed, and the client resends the spoiled
one; the application reads every byte (its SHA-256 equals the sender's). A crafted segment with a bad
checksum (ctx.craft) would be dropped the same way, but it is not the sender's own data, so nothing would
be retransmitted: spoiling a real segment shows the whole claim. (Read the capture with checksum checks on,
tshark -o tcp.check_checksum:TRUE: the server's own ACKs show "bad" too, because the server still offloads
its checksums and tcpdump sees its packets before any sum is filled in; the client's are all good but one.)`,

  async run(ctx) {
    await wireSizeSegments(ctx, { checksums: true });
    const s = await openStream(ctx);
    // The nth data segment to the reader's port (IPv4 or IPv6: an inet table): its checksum field,
    // 16 bits at byte 16 of the TCP header, gets a fixed value before the kernel completes the sum.
    const nft = (...a: string[]) => ctx.exec('client', ['nft', ...a]);
    await nft('add', 'table', 'inet', TABLE);
    await nft('add', 'chain', 'inet', TABLE, 'post', '{ type filter hook postrouting priority 0 ; }');
    await nft('add', 'counter', 'inet', TABLE, 'spoiled');
    await nft('add', 'rule', 'inet', TABLE, 'post', 'meta', 'l4proto', 'tcp', 'th', 'dport', String(s.port), 'meta', 'length', '>', '200',
      'numgen', 'inc', 'mod', '4000000000', String(ctx.params.segment - 1), 'counter', 'name', 'spoiled', '@th,128,16', 'set', '0x0bad');
    const before = await ctx.counters('server');
    await sendAll(s, ctx.params.bytes, 20_000);
    await s.client.next('closed', { timeoutMs: 20_000 });
    const after = await ctx.counters('server');
    const listed = await nft('list', 'counter', 'inet', TABLE, 'spoiled');
    ctx.mark('spoiled', {
      packets: Number(/packets (\d+)/.exec(listed)?.[1] ?? -1),
      csumErrors: (after['Tcp.InCsumErrors'] ?? 0) - (before['Tcp.InCsumErrors'] ?? 0),
    });
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'stream', 'the reader');
    if (!conn) return null;
    const spoiled = ctx.mark('spoiled')?.data as { packets: number; csumErrors: number } | undefined;
    if (!setup.expect('the nftables rule spoiled exactly one segment', spoiled?.packets === 1, spoiled?.packets ?? null, 1)) return null;
    const offloads = ctx.mark('offloads')?.data as { tso: string; gso: string; tx: string } | undefined;
    if (!setup.expect("tx checksumming was off on the client (its kernel computed every checksum)", offloads?.tx === 'off', offloads?.tx ?? null, 'off')) return null;
    const f = connFacts(conn);
    const data = f.segments.filter((x) => x.from === 'client' && x.len > 0);
    const firsts: Step[] = [];
    for (const d of data) if (!firsts.some((x) => x.seq === d.seq)) firsts.push(d);
    const bad = firsts[ctx.params.segment - 1] ?? null;
    const resent = bad ? data.find((x) => x.packet > bad.packet && x.seq === bad.seq) ?? null : null;
    if (!setup.expect('the spoiled segment was captured and sent again', !!(bad && resent), [bad?.packet, resent?.packet])) return null;
    const b = bad!;
    const r = resent!;
    const badEnd = b.relSeq + b.len;
    const between = f.segments.filter((x) => x.from === 'server' && x.packet > b.packet && x.packet < r.packet);
    const coveredBy = between.filter((a) => a.relAck >= badEnd || sackedAbove(a).some((blk) => inBlock(blk, b)));
    const ackAfter = f.segments.find((x) => x.from === 'server' && x.packet > r.packet && x.relAck >= badEnd) ?? null;
    const drops = ctx.kernelEvents.available
      ? ctx.kernelEvents.events.filter((e) => e.kind === 'drop' && e.reason === 'TCP_CSUM')
      : null;
    const dropOfBad = drops?.find((e) => e.kind === 'drop' && e.seq === b.seq) ?? null;
    return {
      f, bad: b, resent: r, badEnd, between, coveredBy, ackAfter, drops, dropOfBad, offloads: offloads!,
      csumErrors: spoiled!.csumErrors,
      inErrs: delta(ctx.observations.server, 'Tcp.InErrs'),
      resentKind: f.retransmissions.find((x) => x.packet === r.packet)?.kind ?? null,
      otherRetx: f.retransmissions.filter((x) => x.from === 'client' && x.len > 0 && x.seq !== b.seq).map((x) => x.packet),
      stream: streamCheck(ctx),
      kernelMissing: ctx.kernelEvents.available ? null : ctx.kernelEvents.missing,
    };
  },

  claims: {
    T07: (x) => ({
      checks: [
        check.eq("the server's kernel counted one checksum error (Tcp.InCsumErrors)", x.csumErrors, 1),
        ...(x.drops
          ? [check.ok("the kernel dropped that segment with reason TCP_CSUM (its sequence number matches the captured packet's)", !!x.dropOfBad, x.drops.map((e) => (e.kind === 'drop' ? e.seq : null)), x.bad.seq, [x.bad.packet])]
          : []),
        check.ok('no ACK from the server covered the spoiled bytes (cumulative or SACK) before they were sent again', x.between.length > 0 && x.coveredBy.length === 0, x.coveredBy.map((a) => a.packet), [], x.between.map((a) => a.packet)),
        check.ok('the client sent the same bytes again', !!x.resent, x.resent.packet, 'a retransmission', [x.bad.packet, x.resent.packet]),
        check.ok('the retransmission was acknowledged: the bytes arrived through it', !!x.ackAfter, x.ackAfter?.relAck ?? null, `>= ${x.badEnd}`, [x.resent.packet, x.ackAfter?.packet]),
        check.eq('the application read as many bytes as were sent', x.stream.read, x.stream.sent),
        check.eq("the SHA-256 of what it read equals the sender's", x.stream.readHash, x.stream.sentHash),
      ],
      evidence: `packet ${x.bad.packet} (bytes ${x.bad.relSeq}..${x.badEnd - 1}) left the client with a spoiled checksum; the server counted Tcp.InCsumErrors +${x.csumErrors}` +
        `${x.dropOfBad ? ` and its kernel dropped seq ${x.bad.seq} with reason TCP_CSUM` : x.kernelMissing ? ` (kernel events: ${x.kernelMissing})` : ''}; none of its ${x.between.length} ACKs before the retransmission covered those bytes ` +
        `(they stayed at ack ${x.between.reduce((m, a) => Math.max(m, a.relAck), 0)}); the client resent them (packet ${x.resent.packet}, ${x.resentKind}, ${ms(x.resent.time - x.bad.time)} after the original) ` +
        `and packet ${x.ackAfter?.packet} acknowledged them (ack ${x.ackAfter?.relAck}); the application read ${x.stream.read} of ${x.stream.sent} bytes, sha256 ${short(x.stream.readHash)} = the sender's`,
    }),
  },

  checks: (x) => [
    check.ok('the stream was intact end to end (count and SHA-256)', x.stream.intact, [x.stream.read, short(x.stream.readHash)], [x.stream.sent, short(x.stream.sentHash)]),
    check.eq('only the spoiled segment was sent again', x.otherRetx, []),
  ],

  story: (x) =>
    `With tx checksumming ${x.offloads.tx} on the client (TSO ${x.offloads.tso}, GSO ${x.offloads.gso}), its kernel summed every segment itself, and one of them, packet ${x.bad.packet}, left with a sum that could not match. ` +
    `The server's capture shows it arrive like any other (tcpdump and Wireshark do not check TCP checksums unless asked: tshark -o tcp.check_checksum:TRUE flags it). ` +
    `The server's kernel did check, before TCP saw it: Tcp.InCsumErrors +${x.csumErrors}${x.dropOfBad ? ', drop reason TCP_CSUM' : ''}. To TCP the segment was simply lost: ` +
    `the ${x.between.length} ACKs that followed kept ack ${x.between.reduce((m, a) => Math.max(m, a.relAck), 0)} and SACKed what lay beyond it, and the client resent those ${x.bad.len} bytes ${ms(x.resent.time - x.bad.time)} after the original (${x.resentKind}). ` +
    `The reader got them from the retransmission: ${x.stream.read} bytes, SHA-256 ${short(x.stream.readHash)}, the sender's.`,
});
