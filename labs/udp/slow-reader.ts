/**
 * U01: a receiver that works between two reads loses datagrams; reading into a queue that another
 * thread works off fixes it. The same sender (rate, count, size) against the same amount of work
 * per datagram, two receivers side by side: inline (work in the 'message' handler) and queue (the
 * handler only queues, a worker thread works).
 */
import { check, defineLab } from '../../src/lab/index.js';
import { accountingChecks, accountingText, cause, experiment, experiments, lossText } from './experiment.js';

const NAMES = ['inline', 'queue'] as const;

export default defineLab({
  name: 'slow-reader',
  title: 'A slow UDP reader loses datagrams; reading into a queue fixes it',
  topic: 'udp',
  seconds: 6,
  // Generous: on a loaded two-core machine (load average 50+) each experiment's programs start slowly; the lab itself needs ~6 s.
  timeoutMs: 180_000,
  needs: ['root', 'tcpdump'],
  topology: { kind: 'loopback' },
  captureFilter: 'icmp or icmp6', // each experiment records its datagrams in its own pcap
  params: {
    rate: { type: 'int', default: 40_000, min: 1000, max: 200_000, help: 'datagrams per second the sender sends (iperf3-style bursts every ~1 ms)' },
    count: { type: 'int', default: 10_000, min: 1000, max: 200_000, help: 'datagrams per receiver' },
    size: { type: 'int', default: 1472, min: 16, max: 1472, help: 'UDP payload bytes (one packet on an Ethernet MTU)' },
    rcvbuf: { type: 'int', default: 1 << 20, min: 1024, max: 1 << 30, help: 'SO_RCVBUF both receivers ask for, bytes (the kernel doubles it, up to net.core.rmem_max): the same for both, it is not the fix' },
    workUs: { type: 'int', default: 50, min: 10, max: 10_000, help: 'the work per datagram, microseconds: the receiver keeps up with at most 1e6/workUs datagrams/s' },
  },
  explanation: `A UDP socket has a receive buffer (net.core.rmem_default = 212992 bytes here) and nothing else: what
arrives while it is full is dropped by the kernel (Udp RcvbufErrors, the socket's drop count in
/proc/net/udp, kfree_skb reason SOCKET_RCVBUFF). A receiver that does its work between two reads
empties the buffer only as fast as it works. Here one sender sends the same numbered datagrams at the
same rate twice: first to a receiver that works workUs per datagram inside its 'message' handler
(inline), then to one whose handler only puts the datagram in a queue that a worker thread works off
(queue). The work is the same; only where it happens differs. Every lost datagram is charged to its
cause from the capture and the kernel's counters, and checked against the kernel's own drop events.`,

  async run(ctx) {
    const { rate, count, size, workUs, rcvbuf } = ctx.params;
    for (const reader of NAMES) await experiment(ctx, reader, { rate, count, size, workUs, rcvbuf, reader });
  },

  facts(ctx, setup) {
    const e = experiments(ctx, setup, NAMES);
    if (!e) return null;
    if (!setup.expect('both receivers got datagrams from the same sender settings', e.inline.params.rate === e.queue.params.rate && e.inline.sender.attempted === e.queue.sender.attempted, [e.inline.sender.attempted, e.queue.sender.attempted])) return null;
    return e;
  },

  claims: {
    U01: (e, ctx) => {
      const capacity = Math.round(1e6 / ctx.params.workUs);
      return {
        checks: [
          check.ok(`the inline receiver (${ctx.params.workUs} µs of work between reads, at most ${capacity}/s) lost datagrams`, e.inline.receiver.lost > 0, e.inline.receiver.lost, '> 0'),
          check.eq('every datagram the inline receiver lost died in its full receive buffer', cause(e.inline, 'receive-buffer'), e.inline.receiver.lost),
          check.ok('the queue reader, with the same work, lost at most half as many (on an idle machine none; a reading thread starved of CPU still loses some)', e.queue.receiver.lost * 2 <= e.inline.receiver.lost, e.queue.receiver.lost, `<= ${Math.floor(e.inline.receiver.lost / 2)}`),
          check.eq('both sends completed without an error', e.inline.sender.errors + e.queue.sender.errors, 0),
        ],
        evidence: `${e.inline.sender.attempted} datagrams of ${e.inline.params.size} bytes at ${Math.round(e.inline.sender.ratePerSec)}/s and ${Math.round(e.queue.sender.ratePerSec)}/s: ` +
          `${accountingText(ctx, e.inline)}; ${accountingText(ctx, e.queue)}; the socket's drop count (/proc/net/udp) ${e.inline.receiver.lost > 0 ? `rose by ${cause(e.inline, 'receive-buffer')} inline` : 'stayed'}, ` +
          `Udp RcvbufErrors +${(e.inline.counters.receiver['Udp.RcvbufErrors'] ?? 0) + (e.inline.counters.receiver['Udp6.RcvbufErrors'] ?? 0)} inline, ` +
          `+${(e.queue.counters.receiver['Udp.RcvbufErrors'] ?? 0) + (e.queue.counters.receiver['Udp6.RcvbufErrors'] ?? 0)} with the queue (captures ${e.inline.capture.file}, ${e.queue.capture.file})`,
      };
    },
  },

  checks: (e, ctx) => accountingChecks(ctx, [e.inline, e.queue]),

  story: (e, ctx) => {
    const capacity = Math.round(1e6 / ctx.params.workUs);
    return `The sender offered ${Math.round(e.inline.sender.ratePerSec)} datagrams/s; working ${ctx.params.workUs} µs between reads, the inline receiver can take at most ${capacity}/s, ` +
      `so its ${e.inline.rcvbuf.effective}-byte receive buffer filled within milliseconds and the kernel dropped what did not fit: it lost ${lossText(e.inline)}, ` +
      `every one counted by the socket (RcvbufErrors) and freed by the kernel. The queue reader did the same work on a worker thread; its handler only read and queued, ` +
      `so the socket was drained as fast as datagrams came and it lost ${lossText(e.queue)}${e.queue.receiver.lost > 0 ? ' (the reading thread still shares two CPUs with the sender and the worker: a moment without CPU fills the buffer too)' : ''}. ` +
      `The work still takes as long (the queue reader's process used ${Math.round(e.queue.receiver.cpuMs)} ms of CPU); it just no longer stands between two reads.`;
  },
});
