/**
 * The UDP loss labs slow-reader (U01), rcvbuf (U03), rate (U04) and sender-side (U06), run for real
 * through the CLI (real namespaces, node:dgram sockets, tcpdump, a tbf qdisc) in one run per family:
 * each lab passes with the expected verdict per claim, every experiment's lost datagrams are
 * attributed to causes with nothing unexplained, and `wirelab claims --json` lists the four claims as
 * covered by these labs.
 */
import { describe, expect, it } from 'vitest';
import { isRoot, runCli } from '../../support/cli.js';
import { runLabs } from '../../support/lab-run.js';

const LABS = ['slow-reader', 'rcvbuf', 'rate', 'sender-side'];
const EXPECTED: Record<string, string> = { U01: 'confirmed', U03: 'differs', U04: 'differs', U06: 'differs' };
/** The experiments each lab runs: each one's attribution must add up. */
const EXPERIMENTS: Record<string, string[]> = {
  'slow-reader': ['inline', 'queue'],
  rcvbuf: ['burst-4k', 'burst-64k', 'burst-1m', 'stream-1m'],
  rate: ['blast', 'high-burst', 'high-paced', 'low-burst', 'low-paced'],
  'sender-side': ['queue', 'drop'],
};

describe.skipIf(!isRoot)('the UDP loss labs U01, U03, U04, U06 (needs root)', () => {
  for (const family of [4, 6] as const) {
    it(`all four pass over IPv${family} with the expected verdicts, every loss attributed`, async () => {
      // Two at a time: these labs measure loss against CPU-bound receivers; four at once on two cores starve them all.
      const r = await runLabs(LABS, family, { jobs: 2, timeoutMs: 300_000, tag: 'udp-a' });
      const { labs, failed } = r;
      expect(failed, r.stderr).toEqual([]);
      expect(labs.map((l) => [l.lab, l.family, l.verdict, l.reason])).toEqual(LABS.map((n) => [n, family, 'pass', null]));
      expect(r.code).toBe(0);
      expect(r.verdicts).toEqual(EXPECTED);
      for (const l of labs) {
        // Every experiment was checked for unexplained loss (and passed: no failed expectation above).
        for (const name of EXPERIMENTS[l.lab]!) {
          const adds = l.expectations.find((e) => e.text.startsWith(`${name}: the causes add up to the `));
          expect(adds && [adds.ok, adds.actual], `${l.lab} ${name}`).toEqual([true, 0]);
        }
        expect(l.story, l.lab).toMatch(/\d/);
      }
      const { claims } = r;
      // Evidence in this run's numbers.
      expect(claims.U01!.evidence).toMatch(/inline: lost \d+\/10000 .*queue: lost \d+\/10000/);
      expect(claims.U03!.differs!.measured).toMatch(/^a 150-datagram burst lost \d+ \(4k\), \d+ \(64k\), 0 \(1m\); a 1500-datagram stream into 1m lost [1-9]\d*$/);
      expect(claims.U04!.differs!.measured).toMatch(/^at 40000\/s: [1-9]\d*\/4000 .* in bursts, [1-9]\d*\/4000 .* paced; at 250\/s: \d+\/250 .* in bursts, \d+\/250 .* paced; blast: [1-9]\d*\/4000/);
      expect(claims.U06!.differs!.measured).toMatch(/^queue: 0 of 2000 lost at the sender, libuv queued up to [1-9]\d*; drop: ([1-9]\d*) of 2000 lost at the sender, \1 qdisc drops = \d+ SndbufErrors, 0 send errors$/);
    }, 320_000);
  }

  it('wirelab claims --json: U01, U03, U04 and U06 are covered by these labs', async () => {
    const r = await runCli(['claims', '--json']);
    expect(r.code).toBe(0);
    const claims = JSON.parse(r.stdout) as { id: string; labs: string[] }[];
    const labsOf = (id: string): string[] | undefined => claims.find((c) => c.id === id)?.labs;
    expect([labsOf('U01'), labsOf('U03'), labsOf('U04'), labsOf('U06')]).toEqual([['slow-reader'], ['rcvbuf'], ['rate'], ['sender-side']]);
  });
});
