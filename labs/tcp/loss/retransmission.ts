/**
 * A data segment lost once, twice over: connection A loses the LAST segment of a write (nothing
 * follows it, so only a timer can recover it), connection B loses the third segment of a longer
 * write (the segments after it make the receiver send duplicate ACKs with SACK blocks, and the
 * sender retransmits long before any timer). The faults drop at the server's input, so the capture
 * there shows each lost segment and its retransmission; the client's counters, read between the
 * two phases, say which mechanism the kernel used.
 */
import { check, connFacts, dataSegments, defineLab, ms, sackBlocks, setOffloads, withMark, type ConnFacts, type Retransmission, type Step } from '../../../src/lab/index.js';

const SLOW = { timeoutMs: 30_000 }; // a readiness wait on a busy machine

const COUNTERS = ['TcpExt.TCPLossProbes', 'TcpExt.TCPLossProbeRecovery', 'TcpExt.TCPTimeouts', 'TcpExt.TCPFastRetrans', 'TcpExt.TCPSackRecovery', 'TcpExt.TCPRetransFail', 'Tcp.RetransSegs'] as const;
type Counts = Record<string, number>;

function diff(after: Counts, before: Counts): Counts {
  return Object.fromEntries(COUNTERS.map((k) => [k.replace(/^TcpExt\.|^Tcp\./, ''), (after[k] ?? 0) - (before[k] ?? 0)]));
}

interface Phase {
  f: ConnFacts;
  lost: Step | null; // the first transmission the fault dropped
  retrans: Retransmission[];
  counters: Counts;
  sentHash: string | null;
  readHash: string | null;
  readTotal: number;
}

export default defineLab({
  name: 'retransmission',
  title: 'A lost segment resent: by a timer when nothing follows it, at once when data follows',
  topic: 'tcp/loss',
  seconds: 3,
  needs: ['root', 'tcpdump', 'nft', 'ethtool'],
  topology: { kind: 'veth' },
  // Program start-up and ethtool take seconds on a loaded machine (a load average of 90 seen here):
  // generous readiness waits, not longer measurements.
  timeoutMs: 90_000,
  params: {
    tailBytes: { type: 'int', default: 8000, min: 2000, max: 14000, help: 'connection A writes this much (6 segments at MSS 1460); its last segment is dropped once' },
    bulkBytes: { type: 'int', default: 30000, min: 10000, max: 200000, help: 'connection B writes this much; its third segment is dropped once' },
  },
  explanation: `Both connections run with TSO/GSO/GRO off, so a "segment" is what a wire would carry.
A: the client writes 8000 bytes (six segments); the server's input drops the sixth, the last. The
server acknowledges the five it got and has no reason to say more: no later segment shows it a hole.
Only the sender's timer can help. Textbook TCP waits for the retransmission timeout (RTO); Linux's
RTO is srtt + max(4·rttvar, 200 ms), at least 200 ms (TCP_RTO_MIN). But Linux first arms a tail-loss
probe (RACK-TLP, RFC 8985; tcp_early_retrans = 3): 2·srtt later, plus 200 ms when only one segment
is outstanding (room for the peer's delayed ACK), never later than the RTO would fire. The probe
resends the last segment; TcpExt.TCPLossProbes counts it, TCPTimeouts a real RTO.
B: the client writes 30000 bytes; the third segment is dropped. Every later segment arrives out of
order, and the server answers each with a duplicate ACK (the same ack number) carrying a SACK block
for what it holds beyond the hole. The sender's RACK loss detection (tcp_recovery = 1) marks the
hole lost once a segment sent after it is SACKed and a reordering window has passed; the window is
zero once three segments are SACKed (the classic three duplicate ACKs). It retransmits at once
(TCPFastRetrans, TCPSackRecovery), a fraction of a millisecond after the duplicates, far sooner
than any timer. The server application reads every byte once, in order (a sha256 at both ends).`,

  async run(ctx) {
    await setOffloads(ctx, ['client', 'server'], { tso: false, gso: false, gro: false });
    const { tailBytes, bulkBytes } = ctx.params;
    const srvA = ctx.program('server', 'tcp-bulk', { mode: 'listen', host: ctx.addr('server'), port: 0, notifyAt: [tailBytes] }, 'server-a');
    const srvB = ctx.program('server', 'tcp-bulk', { mode: 'listen', host: ctx.addr('server'), port: 0, notifyAt: [bulkBytes] }, 'server-b');
    const portA = Number((await srvA.next('listening', SLOW)).port);
    const portB = Number((await srvB.next('listening', SLOW)).port);
    ctx.mark('ports', { portA, portB });
    // A's last data segment (the sixth at MSS 1460/1440 with timestamps: 8000 bytes = 5 x 1448 + 760
    // or 5 x 1428 + 860), and B's third, each dropped once at the server's input.
    const segsA = Math.ceil(tailBytes / (ctx.family === 6 ? 1428 : 1448));
    await ctx.fault('drop-last-a', { at: 'server', match: { from: 'client', dport: portA, tcp: 'data' }, drop: { nth: segsA, count: 1 } });
    await ctx.fault('drop-third-b', { at: 'server', match: { from: 'client', dport: portB, tcp: 'data' }, drop: { nth: 3, count: 1 } });

    const c0 = await ctx.counters('client');
    const a = ctx.program('client', 'tcp-bulk', { mode: 'connect', host: ctx.addr('server'), port: portA, send: tailBytes }, 'client-a');
    await a.next('sent', SLOW);
    await srvA.next('reached', SLOW);
    const c1 = await ctx.counters('client');
    const b = ctx.program('client', 'tcp-bulk', { mode: 'connect', host: ctx.addr('server'), port: portB, send: bulkBytes }, 'client-b');
    await b.next('sent', SLOW);
    await srvB.next('reached', SLOW);
    const c2 = await ctx.counters('client');
    ctx.mark('counters', { a: diff(c1, c0), b: diff(c2, c1) });
    for (const [c, s] of [[a, srvA], [b, srvB]] as const) {
      c.send({ do: 'end' });
      await s.next('eof', SLOW);
      s.send({ do: 'end' });
      await c.next('closed', SLOW);
    }
  },

  facts(ctx, setup) {
    const ports = ctx.mark('ports')?.data as { portA: number; portB: number } | undefined;
    const counters = ctx.mark('counters')?.data as { a: Counts; b: Counts } | undefined;
    if (!setup.expect('both phases finished (counters read after each)', !!(ports && counters))) return null;
    const ca = ctx.connectionsTo(ports!.portA);
    const cb = ctx.connectionsTo(ports!.portB);
    if (!setup.expect('one connection to each server was captured', ca.length === 1 && cb.length === 1, [ca.length, cb.length], [1, 1])) return null;
    const drops = ctx.faults.map((f) => f.dropped);
    if (!setup.expect('each fault dropped exactly one segment', drops.length === 2 && drops.every((d) => d === 1), drops, [1, 1])) return null;
    const phase = (c: (typeof ca)[number], name: 'a' | 'b', nth: number): Phase => {
      const f = connFacts(c);
      const data = dataSegments(f, 'client');
      const retrans = f.retransmissions.filter((r) => r.from === 'client' && r.len > 0);
      const firsts = data.filter((s) => !retrans.some((r) => r.packet === s.packet));
      const sent = ctx.program(`client-${name}`).messages.find((m) => m.event === 'sent');
      const read = ctx.program(`server-${name}`).messages.find((m) => m.event === 'eof');
      return {
        f, lost: firsts[nth - 1] ?? null, retrans, counters: counters![name],
        sentHash: (sent?.sha256 as string) ?? null, readHash: (read?.sha256 as string) ?? null, readTotal: Number(read?.total ?? NaN),
      };
    };
    const segsA = Math.ceil(ctx.params.tailBytes / (ctx.family === 6 ? 1428 : 1448));
    const A = phase(ca[0]!, 'a', segsA);
    const B = phase(cb[0]!, 'b', 3);
    const reA = A.retrans.find((r) => A.lost && r.seq === A.lost.seq) ?? null;
    const reB = B.retrans.find((r) => B.lost && r.seq === B.lost.seq) ?? null;
    // B: the server's duplicate ACKs between the loss and the retransmission, and their SACK blocks.
    const dupsB = B.lost && reB ? withMark(B.f, 'dup-ack', 'server').filter((s) => s.packet > B.lost!.packet && s.packet < reB.packet) : [];
    const lastAckA = A.lost ? A.f.segments.filter((s) => s.from === 'server' && s.packet < (reA?.packet ?? Infinity) && s.relAck === A.lost!.relSeq).pop() ?? null : null;
    return {
      A, B, reA, reB, dupsB, lastAckA,
      rtt: A.f.conn.handshake.rttMs === null ? null : A.f.conn.handshake.rttMs / 1000,
      tlp: A.counters.TCPLossProbes! > 0 && A.counters.TCPTimeouts === 0,
    };
  },

  claims: {
    T03: (x, ctx) => {
      const { A, B, reA, reB, dupsB } = x;
      const since = reA && x.lastAckA ? reA.time - x.lastAckA.time : null;
      const early = !!reA && !x.lastAckA; // the probe left before the ACK of the segments before the lost one
      const firstDup = dupsB[0] ?? null;
      const fastDelay = reB && firstDup ? reB.time - firstDup.time : null;
      const sack = firstDup ? sackBlocks(firstDup) : [];
      const lostEnd = B.lost ? B.lost.relSeq + B.lost.len : null;
      const how = x.tlp ? 'a tail-loss probe (TCPLossProbes +1, TCPTimeouts 0)' : A.counters.TCPTimeouts! > 0 ? 'the retransmission timeout (TCPTimeouts +1)' : 'neither counter moved';
      const dupRule = `RACK (tcp_recovery = 1) marks a segment lost once one sent after it is SACKed and a reordering window (min RTT / 4, zero once three segments are SACKed) has passed, so the hole was resent on the first SACKs that reached the client (the rest of the ${dupsB.length} duplicates the capture shows were already on their way)`;
      return {
        checks: [
          check.ok("A: the last segment of the write was dropped and resent with the same sequence number", !!(A.lost && reA), [A.lost?.packet, reA?.packet], 'a drop, then a retransmission', [A.lost?.packet, reA?.packet]),
          check.eq('A: no duplicate ACK before it (nothing followed the lost segment)', withMark(A.f, 'dup-ack', 'server').filter((s) => s.packet < (reA?.packet ?? 0)).map((s) => s.packet), []),
          // 2·srtt + TCP_RTO_MIN (one segment outstanding), or the RTO (srtt + 200 ms at least): both ~200 ms here.
          // With only the lost segment outstanding the probe waits 2·srtt + TCP_RTO_MIN; when the ACK of
          // the earlier segments is late (a busy receiver), the probe fires first, 2·srtt + 2 jiffies after.
          early
            ? check.ok('A: resent by a tail-loss probe before the earlier segments were even acknowledged (several segments out: the probe timer is 2·srtt + 8 ms)', x.tlp && (reA?.interval ?? 1) < 0.19, [reA?.interval, A.counters], 'a loss probe < 190 ms after the original', [A.lost?.packet, reA?.packet])
            : check.within('A: resent about 200 ms (TCP_RTO_MIN) after the last ACK, not sooner (later only as far as a busy machine delays a timer)', since, 0.19, 1.0, [x.lastAckA?.packet, reA?.packet]),
          check.ok('A: the kernel counted it as a tail-loss probe or a timeout', (A.counters.TCPLossProbes ?? 0) + (A.counters.TCPTimeouts ?? 0) >= 1, A.counters, 'TCPLossProbes or TCPTimeouts >= 1'),
          check.ok('B: the third segment was dropped and resent', !!(B.lost && reB), [B.lost?.packet, reB?.packet], 'a drop, then a retransmission', [B.lost?.packet, reB?.packet]),
          check.ok('B: the server sent duplicate ACKs for the hole before the retransmission', dupsB.length >= 1 && dupsB.every((d) => d.relAck === B.lost?.relSeq), dupsB.map((d) => [d.packet, d.relAck]), `>= 1 ACK of ${B.lost?.relSeq}`, dupsB.map((d) => d.packet)),
          check.ok('B: their SACK blocks start where the lost segment ends (the data beyond the hole)', sack.length > 0 && sack[0]![0] === lostEnd, sack, `[${lostEnd}, …]`, [firstDup?.packet]),
          check.within('B: resent within 100 ms of the first duplicate ACK, long before any timer (200 ms)', fastDelay, 0, 0.1, [firstDup?.packet, reB?.packet]),
          check.ok('B: the kernel counted a fast retransmission in SACK recovery, no timeout and no probe', (B.counters.TCPFastRetrans ?? 0) >= 1 && (B.counters.TCPSackRecovery ?? 0) >= 1 && B.counters.TCPTimeouts === 0, B.counters, 'TCPFastRetrans >= 1, TCPSackRecovery >= 1, TCPTimeouts 0'),
          check.eq('both server applications read exactly what was sent (sha256)', [A.readHash, B.readHash, A.readTotal, B.readTotal], [A.sentHash, B.sentHash, ctx.params.tailBytes, ctx.params.bulkBytes]),
        ],
        evidence: `A: the last segment (packet ${A.lost?.packet}, ${A.lost?.len} bytes) was dropped; ${early ? `the client resent it before the ACK of the earlier segments arrived` : `the server's last ACK (packet ${x.lastAckA?.packet}) said nothing of it; the client resent it ${ms(since)} later`} (packet ${reA?.packet}, ${ms(reA?.interval)} after the original; handshake RTT ${ms(x.rtt)}) as ${how}. ` +
          `B: the third segment (packet ${B.lost?.packet}) was dropped; the server sent ${dupsB.length} duplicate ACKs (first: packet ${firstDup?.packet}, SACK ${sack.map(([l, r]) => `${l}-${r}`).join(' ')}), and the client resent it ${ms(fastDelay)} after the first of them (packet ${reB?.packet}, ${ms(reB?.interval)} after the original), ${dupRule} ` +
          `(TCPFastRetrans +${B.counters.TCPFastRetrans}, TCPSackRecovery +${B.counters.TCPSackRecovery}, TCPTimeouts +${B.counters.TCPTimeouts}); both readers' sha256 matched the senders'`,
        differs: {
          textbook: 'a segment is retransmitted when its retransmission timer expires',
          linux: 'a lost last segment is resent by a tail-loss probe (RACK-TLP) about 200 ms later, never later than the RTO; a loss followed by data is resent on the SACKed duplicate ACKs (RACK / fast retransmit) with no timer at all',
          measured: `tail: ${early ? `${ms(reA?.interval)} after the original, before the last ACK` : `${ms(since)} after the last ACK`} (${x.tlp ? 'a loss probe' : how}); with data following: ${ms(fastDelay)} after the first of ${dupsB.length} duplicate ACKs`,
        },
      };
    },
  },

  story: (x) =>
    `A lost its last segment (packet ${x.A.lost?.packet}); no later segment could reveal the hole, so the client waited ${ms(x.reA && x.lastAckA ? x.reA.time - x.lastAckA.time : null)} after the last ACK and resent it (packet ${x.reA?.packet}) as ${x.tlp ? 'a tail-loss probe (2·RTT plus 200 ms, the minimum RTO)' : 'a timeout'}. ` +
    `B lost its third segment (packet ${x.B.lost?.packet}); the ${x.dupsB.length} segments' worth of duplicate ACKs that followed carried SACK blocks saying exactly what was missing, and the client resent it ${ms(x.reB && x.dupsB[0] ? x.reB.time - x.dupsB[0].time : null)} after the first duplicate. ` +
    `Same loss, timers of very different lengths: what follows the lost segment decides how fast TCP recovers.`,
});
