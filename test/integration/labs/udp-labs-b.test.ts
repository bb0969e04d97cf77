/**
 * The UDP loss labs big-datagram (U02, U08), wan-loss (U05) and mtu-fragments (U07), run for real
 * through the CLI (real namespaces, node:dgram, tcpdump, nftables loss rules), one run per family:
 * each lab's verdict, each claim's verdict, every experiment's attribution adding up, the numbers in
 * report.json (`labs[].udp`) and the table the HTML report draws from them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot } from '../../support/cli.js';
import { runLabs, type LabJson as BaseLabJson } from '../../support/lab-run.js';

interface Experiment {
  name: string;
  params: { family: number; size: number; loss: number };
  sent: number;
  received: number;
  lost: number;
  causes: Record<string, number>;
  unexplained: number;
  packetsPerDatagram: number;
  model: { predictedLossPercent: number; measuredLossPercent: number } | null;
  capture: string;
}

interface LabJson extends BaseLabJson {
  udp: Experiment[] | null;
}

const LABS = ['big-datagram', 'wan-loss', 'mtu-fragments'];
const EXPECTED: Record<string, string> = { U02: 'differs', U08: 'confirmed', U05: 'differs', U07: 'confirmed' };
const EXPERIMENTS: Record<string, string[]> = {
  'big-datagram': ['loopback', 'ethernet', 'fragment-loss', 'default-buffer', 'bigger-buffer'],
  'wan-loss': ['lan', 'wan-small', 'wan-large', 'wan-paced'],
  'mtu-fragments': ['fits', 'one-byte-more', 'three-fragments'],
};

describe.skipIf(!isRoot)('the UDP loss labs, part b (needs root)', () => {
  for (const family of [4, 6] as const) {
    it(`big-datagram, wan-loss and mtu-fragments pass over IPv${family} with U02/U05 differs and U07/U08 confirmed`, async () => {
      const r = await runLabs<LabJson>(LABS, family, { jobs: 3, timeoutMs: 300_000, tag: 'udp-b' });
      const { labs, failed, out } = r;
      expect(failed, r.stderr).toEqual([]);
      expect(labs.map((l) => [l.lab, l.family, l.verdict, l.reason])).toEqual(LABS.map((n) => [n, family, 'pass', null]));
      expect(r.code).toBe(0);
      expect(r.verdicts).toEqual(EXPECTED);
      const { claims } = r;
      // The exact limit of the family, measured, in U08's evidence.
      expect(claims.U08!.evidence).toContain(family === 6 ? 'payloads up to 65527 bytes' : 'payloads up to 65507 bytes');
      expect(claims.U08!.evidence).toContain(`${family === 6 ? 65528 : 65508} bytes failed at once with EMSGSIZE`);
      expect(claims.U02!.differs!.measured).toMatch(/^100\/100 delivered in 3[45] fragments; [\d.]+% lost at 1% fragment loss/);
      expect(claims.U05!.differs!.measured).toMatch(/lost in one packet, [\d.]+% in 6 fragments, [\d.]+% paced; the LAN 0$/);
      for (const l of labs) {
        expect(l.story, l.lab).toMatch(/\d/);
        // report.json carries every experiment's numbers; the causes add up to the loss in each.
        expect(l.udp!.map((x) => x.name), l.lab).toEqual(EXPERIMENTS[l.lab]);
        for (const x of l.udp!) {
          expect(x.params.family, `${l.lab} ${x.name}`).toBe(family);
          expect(x.sent - x.received, `${l.lab} ${x.name}`).toBe(x.lost);
          expect(x.unexplained, `${l.lab} ${x.name}`).toBe(0);
          expect(Object.values(x.causes).reduce((s, n) => s + n, 0), `${l.lab} ${x.name}`).toBe(x.lost);
          expect(readFileSync(path.join(out, x.capture)).length, `${l.lab} ${x.name} capture`).toBeGreaterThan(24);
        }
      }
      const mtu = labs.find((l) => l.lab === 'mtu-fragments')!.udp!;
      expect(mtu.map((x) => x.packetsPerDatagram)).toEqual([1, 2, 3]);
      expect(mtu.map((x) => x.params.size)).toEqual(family === 6 ? [1452, 1453, 4000] : [1472, 1473, 4000]);
      // The HTML report draws them as a table per lab.
      const html = readFileSync(path.join(out, 'report.html'), 'utf8');
      expect(html.match(/<h3>UDP experiments<\/h3>/g)).toHaveLength(3);
      expect(html).toContain('<b>three-fragments</b>');
    }, 320_000);
  }
});
