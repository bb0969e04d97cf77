/**
 * Duplicates: the server's ACKs are dropped at the client's input, so the client resends data the
 * server already has. The server's kernel throws the copy away (the application reads each byte
 * once: count and SHA-256), and it also tells the sender: its ACK carries a D-SACK block below the
 * cumulative ACK (RFC 2883) naming the bytes it got twice.
 */
import { blockText, check, connFacts, theConnection, defineLab, delta, dsackBlock, inBlock, ms, type Step } from '../../../src/lab/index.js';
import { endStream, openStream, short, streamCheck, waitForCounter, wireSizeSegments } from './stream.js';

export default defineLab({
  name: 'duplicates',
  title: 'A duplicate segment: thrown away, and reported to the sender with a D-SACK',
  topic: 'tcp/loss',
  seconds: 2,
  needs: ['root', 'tcpdump', 'nft', 'ethtool'],
  topology: { kind: 'veth' },
  params: {
    bytes: { type: 'int', default: 14480, min: 1448, max: 14480, help: 'bytes the client sends (14480: the initial window of 10 segments of 1448 bytes, all sent at once; over IPv6 the segments carry 1428, and the 11th leaves as the loss probe)' },
  },
  sysctls: { 'net.ipv4.tcp_no_metrics_save': 1 },
  timeoutMs: 60_000, // its own work takes ~1 s; a machine with a load of 70 stretched program start-ups past 20 s
  explanation: `The client sends a few segments (within its initial window, so they all leave at once). Every
one reaches the server, whose kernel acknowledges them, but an nftables rule at the client's input drops
the server's pure ACKs: the client never learns that its data arrived. Its timers fire (a tail loss
probe, then the retransmission timeout) and it sends data again that the server already has. The server's
kernel sees a segment below what it has already acknowledged, throws it away (the application does not
read it twice: the byte count and the SHA-256 match the sender's) and answers with an ACK whose first
SACK block lies below the cumulative ACK: a D-SACK (RFC 2883), "this you sent me twice"
(TcpExt.TCPDSACKOldSent). Once the server has sent a D-SACK the rule is lifted; the next answer reaches
the client (TcpExt.TCPDSACKRecv), which learns its retransmission was unnecessary.`,

  async run(ctx) {
    await wireSizeSegments(ctx);
    const s = await openStream(ctx, { notifyAt: [ctx.params.bytes] });
    const acks = await ctx.fault('acks', { at: 'client', match: { from: 'server', sport: s.port, tcp: 'pure-ack' } });
    const before = (await ctx.counters('server'))['TcpExt.TCPDSACKOldSent'] ?? 0;
    s.client.send({ do: 'send', bytes: ctx.params.bytes });
    await s.server.next('reached', { where: (m) => Number(m.at) === ctx.params.bytes, timeoutMs: 20_000 });
    ctx.mark('all data read');
    // The client resends what the server has; the server answers with a D-SACK (dropped too, for now).
    await waitForCounter(ctx, 'server', 'TcpExt.TCPDSACKOldSent', before + 1, 20_000);
    await acks.disarm();
    ctx.mark('acks pass again');
    // The next retransmission's D-SACK reaches the client, whose send queue then empties.
    const local = ctx.endpoint('client', s.clientPort);
    await ctx.waitForSocket('client', (x) => x.local === local && x.txQueue === 0 && x.state === 'ESTABLISHED', 20_000);
    await endStream(s, 20_000);
    await s.client.next('closed', { timeoutMs: 20_000 });
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'stream', 'the reader');
    if (!conn) return null;
    const f = connFacts(conn);
    const dropped = ctx.faults.find((x) => x.name === 'acks')?.dropped ?? 0;
    if (!setup.expect("the fault dropped the server's ACKs", dropped >= 1, dropped, '>= 1')) return null;
    const data = f.segments.filter((x) => x.from === 'client' && x.len > 0);
    const firsts: Step[] = [];
    for (const d of data) if (!firsts.some((x) => x.seq === d.seq)) firsts.push(d);
    const dataEnd = firsts.reduce((m, x) => Math.max(m, x.relSeq + x.len), 0);
    const server = f.segments.filter((x) => x.from === 'server');
    // The server's first ACK of all the data: sent, captured here, dropped at the client's input.
    const ackAll = server.find((x) => x.relAck >= dataEnd) ?? null;
    // Client data sent again after the server had acknowledged those bytes: duplicates.
    const dups = data.filter((x) => !firsts.includes(x) && !!ackAll && x.packet > ackAll.packet);
    const answers = dups.map((d) => ({ dup: d, ack: server.find((x) => x.packet > d.packet) ?? null }));
    const dsacks = answers.filter((a) => a.ack && dsackBlock(a.ack) && inBlock(dsackBlock(a.ack)!, a.dup));
    const kernelDrops = ctx.kernelEvents.available
      ? ctx.kernelEvents.events.filter((e) => e.kind === 'drop' && e.proto === 'tcp' && e.netns.endsWith('server') && e.reason !== 'NETFILTER_DROP').map((e) => (e.kind === 'drop' ? e.reason : ''))
      : null;
    return {
      f, firsts, dataEnd, ackAll, dups, answers, dsacks, dropped, kernelDrops,
      stream: streamCheck(ctx),
      oldSent: delta(ctx.observations.server, 'TcpExt.TCPDSACKOldSent'),
      recv: delta(ctx.observations.client, 'TcpExt.TCPDSACKRecv'),
      undo: delta(ctx.observations.client, 'TcpExt.TCPDSACKUndo'),
      probes: delta(ctx.observations.client, 'TcpExt.TCPLossProbes'),
      timeouts: delta(ctx.observations.client, 'TcpExt.TCPTimeouts'),
      spurious: dups.filter((d) => d.seg.marks.includes('spurious-retransmission')).map((d) => d.packet),
    };
  },

  claims: {
    T06: (x) => {
      const first = x.dsacks[0];
      const block = first ? dsackBlock(first.ack!) : null;
      return {
        checks: [
          check.ok('the server acknowledged all the data before any copy came (that ACK was lost on the way back)', !!x.ackAll, x.ackAll?.relAck ?? null, `>= ${x.dataEnd}`, [x.ackAll?.packet]),
          check.ok('the client sent data again that the server already had', x.dups.length >= 1, x.dups.map((d) => d.packet), 'at least one duplicate'),
          check.ok('the server answered every duplicate with a D-SACK: a SACK block below its cumulative ACK naming the duplicate bytes', x.dsacks.length === x.dups.length, x.answers.map((a) => [a.dup.packet, a.ack?.packet ?? null, blockText(a.ack ? dsackBlock(a.ack) : null)]), 'a D-SACK for each', x.dsacks.flatMap((a) => [a.dup.packet, a.ack!.packet])),
          check.ok('the D-SACK ACK did not move the cumulative ACK (nothing new arrived)', x.dsacks.every((a) => a.ack!.relAck === x.ackAll?.relAck), x.dsacks.map((a) => a.ack!.relAck), x.ackAll?.relAck ?? null),
          check.ok('the server counted the duplicates it reported (TcpExt.TCPDSACKOldSent)', x.oldSent >= 1, x.oldSent, '>= 1'),
          check.ok('a D-SACK reached the client once the ACKs passed again (TcpExt.TCPDSACKRecv rose)', x.recv >= 1, x.recv, '>= 1', [x.dsacks[x.dsacks.length - 1]?.ack?.packet]),
          check.eq('the application read each byte once: as many bytes as were sent', x.stream.read, x.stream.sent),
          check.eq("and the SHA-256 of what it read equals the sender's", x.stream.readHash, x.stream.sentHash),
        ],
        evidence: `the server acknowledged all ${x.dataEnd - 1} bytes in packet ${x.ackAll?.packet} (ack ${x.ackAll?.relAck}); ${x.dropped} of its pure ACKs were dropped at the client's input, so the client sent ` +
          `${x.dups.length} segment(s) again (packets ${x.dups.map((d) => d.packet).join(', ')}; loss probes +${x.probes}, timeouts +${x.timeouts}); each was answered with a D-SACK (${x.dsacks.map((a) => `packet ${a.ack!.packet}: ack ${a.ack!.relAck}, SACK ${blockText(dsackBlock(a.ack!))}`).join('; ')}); ` +
          `TCPDSACKOldSent +${x.oldSent} at the server, TCPDSACKRecv +${x.recv} at the client; the application read ${x.stream.read} of ${x.stream.sent} bytes, sha256 ${short(x.stream.readHash)} = the sender's`,
        differs: {
          textbook: 'duplicate segments are silently discarded',
          linux: 'the duplicate is discarded, and the receiver tells the sender with a D-SACK block (RFC 2883) below its cumulative ACK, so the sender learns its retransmission was unnecessary',
          measured: `${x.dsacks.length} D-SACK(s) for ${x.dups.length} duplicate(s), the first ${blockText(block)} below ack ${first?.ack?.relAck ?? '?'} (packet ${first?.ack?.packet ?? '?'}); TCPDSACKOldSent +${x.oldSent}, TCPDSACKRecv +${x.recv}`,
        },
      };
    },
  },

  checks: (x) => [
    check.ok('the stream was intact end to end (count and SHA-256)', x.stream.intact, [x.stream.read, short(x.stream.readHash)], [x.stream.sent, short(x.stream.sentHash)]),
  ],

  story: (x) => {
    const first = x.dsacks[0];
    return `All ${x.firsts.length} data segments reached the server, and its kernel said so (packet ${x.ackAll?.packet}, ack ${x.ackAll?.relAck}); the rule at the client's input took that ACK and ${x.dropped - 1} more. ` +
      `Hearing nothing, the client sent again (${x.dups.map((d) => `packet ${d.packet}, ${ms(d.time - (x.ackAll?.time ?? d.time))} after the lost ACK`).join('; ')}). ` +
      `The server already had those bytes: it discarded them${x.kernelDrops?.length ? ` (the kernel's drop reason: ${[...new Set(x.kernelDrops)].join(', ')})` : ''}, the application did not read them twice ` +
      `(${x.stream.read} bytes, SHA-256 ${short(x.stream.readHash)}, as sent), and its ACK said so in a D-SACK block ${blockText(first ? dsackBlock(first.ack!) : null)} below ack ${first?.ack?.relAck} (packet ${first?.ack?.packet}). ` +
      `The analyzer marks ${x.spurious.length ? `packets ${x.spurious.join(', ')}` : 'no packet'} a spurious retransmission: data the capture had already seen acknowledged.` +
      (x.undo ? ` The client used the D-SACK to undo its congestion-window reduction (TCPDSACKUndo +${x.undo}).` : '');
  },
});
