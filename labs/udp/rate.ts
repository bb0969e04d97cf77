/**
 * U04: blasting against pacing, at several rates, against a receiver of fixed speed (workUs per
 * datagram between reads, so at most 1e6/workUs datagrams/s) with the default receive buffer and
 * datagrams below the MTU: as fast as the sender can; `high` datagrams/s (above the receiver's
 * speed) in iperf3-style 1 ms bursts and evenly paced; `low` datagrams/s (below it), both ways.
 */
import { check, defineLab } from '../../src/lab/index.js';
import { accountingChecks, accountingText, cause, experiment, experiments, lossText, type Exp } from './experiment.js';

const NAMES = ['blast', 'high-burst', 'high-paced', 'low-burst', 'low-paced'] as const;
const frac = (e: Exp): number => e.receiver.lost / e.params.count;
const rateText = (e: Exp): string => `${Math.round(e.sender.ratePerSec)}/s`;

export default defineLab({
  name: 'rate',
  title: 'Sending too fast: blasting, bursts and pacing against a receiver of fixed speed',
  topic: 'udp',
  seconds: 8,
  // Generous: on a loaded two-core machine (load average 50+) each experiment's programs start slowly; the lab itself needs ~8 s.
  timeoutMs: 180_000,
  needs: ['root', 'tcpdump'],
  topology: { kind: 'loopback' },
  captureFilter: 'icmp or icmp6',
  params: {
    size: { type: 'int', default: 1000, min: 16, max: 1472, help: 'UDP payload bytes (below the MTU: no fragments)' },
    workUs: { type: 'int', default: 100, min: 50, max: 10_000, help: 'the receiver works this long per datagram between reads: at most 1e6/workUs datagrams/s' },
    high: { type: 'int', default: 40_000, min: 1000, max: 100_000, help: "datagrams/s above the receiver's speed" },
    low: { type: 'int', default: 250, min: 50, max: 100_000, help: "datagrams/s below the receiver's speed" },
    highCount: { type: 'int', default: 4000, min: 200, max: 50_000, help: 'datagrams sent as a blast and at the high rate' },
    lowCount: { type: 'int', default: 250, min: 50, max: 50_000, help: 'datagrams sent at the low rate' },
  },
  explanation: `The seed: sending too fast loses datagrams even when each is smaller than the MTU, and a larger
receive buffer or pacing (sleeping between sends) fixes it. Here the receiver is of fixed speed: it
works workUs per datagram between two reads, so it takes at most 1e6/workUs datagrams a second, and
keeps the kernel's default receive buffer. The sender sends datagrams below the MTU: as fast as it
can (a blast); at a high rate above the receiver's speed, once in 1 ms bursts (iperf3's way: every
millisecond it sends what is due) and once evenly paced (1/rate apart, the seed's sleeping between
sends); and at a low rate below the receiver's speed, both ways. Every lost datagram is charged to its
cause: here it is always the receive buffer, which fills whenever datagrams arrive faster than the
receiver reads them.`,

  async run(ctx) {
    const { size, workUs, high, low, highCount, lowCount } = ctx.params;
    await experiment(ctx, 'blast', { size, workUs, count: highCount, rate: 'max' });
    await experiment(ctx, 'high-burst', { size, workUs, count: highCount, rate: high });
    await experiment(ctx, 'high-paced', { size, workUs, count: highCount, rate: high, pace: true });
    await experiment(ctx, 'low-burst', { size, workUs, count: lowCount, rate: low });
    await experiment(ctx, 'low-paced', { size, workUs, count: lowCount, rate: low, pace: true });
  },

  facts(ctx, setup) {
    const e = experiments(ctx, setup, NAMES);
    if (!e) return null;
    const capacity = 1e6 / ctx.params.workUs;
    if (!setup.expect(`the low rate (${ctx.params.low}/s) is below the receiver's speed (${Math.round(capacity)}/s) and the high rate above it`, ctx.params.low < capacity && ctx.params.high > capacity, [ctx.params.low, ctx.params.high], `low < ${Math.round(capacity)} < high`)) return null;
    return { ...e, capacity };
  },

  claims: {
    U04: (f, ctx) => {
      const all = NAMES.map((n) => f[n]);
      const worstLow = Math.max(frac(f['low-burst']), frac(f['low-paced']));
      return {
        checks: [
          check.ok(`the blast (${rateText(f.blast)}) lost datagrams of ${ctx.params.size} bytes, below the MTU`, f.blast.receiver.lost > 0, f.blast.receiver.lost, '> 0'),
          check.ok(`paced at ${ctx.params.high}/s, above the receiver's speed, it still lost datagrams: pacing did not cure it`, f['high-paced'].receiver.lost > 0, f['high-paced'].receiver.lost, '> 0'),
          check.ok('paced, it lost at least half as many as in 1 ms bursts at the same rate', f['high-paced'].receiver.lost * 2 >= f['high-burst'].receiver.lost, f['high-paced'].receiver.lost, `>= ${Math.ceil(f['high-burst'].receiver.lost / 2)}`),
          check.ok(`at ${ctx.params.low}/s, below the receiver's speed, bursts and pacing alike lost at most half the high rate's share`, worstLow * 2 <= Math.min(frac(f['high-burst']), frac(f['high-paced'])), +(worstLow * 100).toFixed(2), `<= ${(Math.min(frac(f['high-burst']), frac(f['high-paced'])) * 50).toFixed(2)} (% of sent)`),
          check.eq('every lost datagram died in the full receive buffer', all.map((x) => cause(x, 'receive-buffer')), all.map((x) => x.receiver.lost)),
          check.eq('no send failed', all.reduce((s, x) => s + x.sender.errors, 0), 0),
        ],
        evidence: `a receiver of at most ${Math.round(f.capacity)} datagrams/s (${ctx.params.workUs} µs each), buffer ${f.blast.rcvbuf.effective} bytes: ` +
          all.map((x) => `${x.name} at ${rateText(x)}: lost ${lossText(x)}`).join('; ') + `. ${all.map((x) => accountingText(ctx, x)).join('; ')}`,
        differs: {
          textbook: 'sending too fast loses datagrams even below the MTU; a larger receive buffer or pacing the sends cures it',
          linux: "what decides is the average rate against the receiver's speed: above it, paced or in bursts, the receive buffer overflows and the excess is lost (a larger buffer only postpones that); below it, 1 ms bursts lose as little as pacing, so it is slowing down, not the spacing, that cures it",
          measured: `at ${ctx.params.high}/s: ${lossText(f['high-burst'])} in bursts, ${lossText(f['high-paced'])} paced; at ${ctx.params.low}/s: ${lossText(f['low-burst'])} in bursts, ${lossText(f['low-paced'])} paced; blast: ${lossText(f.blast)}`,
        },
      };
    },
  },

  checks: (f, ctx) => accountingChecks(ctx, NAMES.map((n) => f[n])),

  story: (f, ctx) =>
    `The receiver works ${ctx.params.workUs} µs per datagram, so it reads at most ${Math.round(f.capacity)} a second, and its ${f.blast.rcvbuf.effective}-byte buffer holds a few dozen. ` +
    `The blast came at ${rateText(f.blast)} and lost ${lossText(f.blast)}. At ${ctx.params.high}/s the sender lost ${lossText(f['high-burst'])} in 1 ms bursts and ${lossText(f['high-paced'])} when every send was spaced 1/${ctx.params.high} s apart: ` +
    `pacing changes the spacing, not the number of datagrams a second, and the receiver can take only ${Math.round(f.capacity)} of them. At ${ctx.params.low}/s it lost ${lossText(f['low-burst'])} in bursts and ${lossText(f['low-paced'])} paced: ` +
    `below the receiver's speed the buffer soaks up a millisecond's burst easily. Pace to a rate the receiver sustains; a larger buffer only buys time for a burst.`,
});
