/**
 * The loss labs segmentation (T01, T02), retransmission (T03) and window (T04), run for real through
 * the CLI (namespaces joined by a veth, tcpdump, nftables drops, ethtool), one run per family:
 * each lab's verdict and each claim's verdict, and Wireshark's view of each capture (tshark's
 * tcp.analysis flags) agreeing packet by packet with the analyzer's marks for retransmissions,
 * fast retransmissions, duplicate ACKs, zero windows, probes, window updates and out-of-order.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStream } from '../../../src/analyze/pipeline.js';
import type { SegmentMark } from '../../../src/analyze/model.js';
import { openCaptureFile } from '../../../src/capture/read.js';
import { which } from '../../../src/which.js';
import { isRoot, runCli } from '../../support/cli.js';
import { runLabs } from '../../support/lab-run.js';

const LABS = ['segmentation', 'retransmission', 'window'];
const EXPECTED: Record<string, string> = { T01: 'confirmed', T02: 'differs', T03: 'differs', T04: 'differs' };

/** tshark's tcp.analysis fields and the analyzer's mark names for them. */
const TSHARK_MARKS: [string, SegmentMark[]][] = [
  ['tcp.analysis.retransmission', ['retransmission', 'fast-retransmission', 'spurious-retransmission']],
  ['tcp.analysis.fast_retransmission', ['fast-retransmission']],
  ['tcp.analysis.duplicate_ack', ['dup-ack']],
  ['tcp.analysis.zero_window', ['zero-window']],
  ['tcp.analysis.zero_window_probe', ['zero-window-probe']],
  ['tcp.analysis.keep_alive', ['keep-alive']],
  ['tcp.analysis.window_update', ['window-update']],
  ['tcp.analysis.out_of_order', ['out-of-order']],
];

/** Per packet, the tshark fields set: "12 tcp.analysis.duplicate_ack". */
function tsharkMarks(file: string): string[] {
  const r = spawnSync('tshark', ['-n', '-r', file, '-Y', 'tcp.analysis.flags', '-T', 'fields', '-e', 'frame.number', ...TSHARK_MARKS.flatMap(([f]) => ['-e', f])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const [frame, ...cols] = line.split('\t');
    cols.forEach((v, i) => v && out.push(`${frame} ${TSHARK_MARKS[i]![0]}`));
  }
  return out.sort();
}

async function ourMarks(file: string): Promise<string[]> {
  const a = await inspectStream(openCaptureFile(file), { file, keepSegments: true });
  const out: string[] = [];
  for (const c of a.tcp) {
    for (const s of c.segments) {
      for (const [field, names] of TSHARK_MARKS) if (s.marks.some((m) => names.includes(m))) out.push(`${s.packet} ${field}`);
    }
  }
  return out.sort();
}

const count = (marks: string[], field: string): number => marks.filter((m) => m.endsWith(` ${field}`)).length;

describe.skipIf(!isRoot || !which('tshark') || !which('ethtool'))('the loss labs, part a (needs root, tshark, ethtool)', () => {
  for (const family of [4, 6] as const) {
    it(`segmentation, retransmission and window pass over IPv${family}, with the expected claim verdicts, and tshark agrees on the marks`, async () => {
      const r = await runLabs(LABS, family, { jobs: 3, timeoutMs: 280_000, tag: 'loss-a' });
      const { labs, failed, out } = r;
      expect(failed, r.stderr).toEqual([]);
      expect(labs.map((l) => [l.lab, l.family, l.verdict, l.reason])).toEqual(LABS.map((n) => [n, family, 'pass', null]));
      expect(r.code).toBe(0);
      expect(r.verdicts).toEqual(EXPECTED);
      const { claims } = r;
      const mss = family === 6 ? 1440 : 1460;
      expect(claims.T01!.evidence).toContain(`announced MSS ${mss}`);
      expect(claims.T01!.evidence).toContain(`full (${mss - 12} bytes`);
      expect(claims.T02!.differs!.measured).toMatch(/^\d+ ACKs for \d+ segments, up to \d+ per ACK; a lone segment ACKed after/);
      expect(claims.T03!.differs!.measured).toMatch(/^tail: [\d.]+ ms after (the last ACK|the original, before the last ACK) .*; with data following: [\d.]+ ms after the first of \d+ duplicate ACKs$/);
      expect(claims.T04!.differs!.measured).toMatch(/^\d+ probes of 0 bytes, 0\.\d\d s then /);
      for (const l of labs) expect(l.story, l.lab).toMatch(/\d/);

      // Wireshark's view of the same captures, packet by packet.
      for (const l of labs) {
        const file = path.join(out, `${l.lab}${family === 6 ? '-ipv6' : ''}.pcap`);
        const theirs = tsharkMarks(file);
        expect(await ourMarks(file), `${l.lab}: analyzer marks vs tshark on ${file}`).toEqual(theirs);
        if (l.lab === 'retransmission') {
          expect(count(theirs, 'tcp.analysis.retransmission'), 'retransmission: both lost segments resent').toBeGreaterThanOrEqual(2);
          expect(count(theirs, 'tcp.analysis.fast_retransmission'), 'retransmission: B is a fast retransmission').toBeGreaterThanOrEqual(1);
          expect(count(theirs, 'tcp.analysis.duplicate_ack'), 'retransmission: duplicate ACKs for B').toBeGreaterThanOrEqual(1);
        }
        if (l.lab === 'window') {
          expect(count(theirs, 'tcp.analysis.zero_window'), 'window: zero windows').toBeGreaterThanOrEqual(1);
          expect(count(theirs, 'tcp.analysis.keep_alive'), "window: Linux's probes, which Wireshark calls keep-alives").toBeGreaterThanOrEqual(3);
          expect(count(theirs, 'tcp.analysis.window_update'), 'window: the window update').toBeGreaterThanOrEqual(1);
        }
      }
    }, 300_000);
  }
});

describe('wirelab claims', () => {
  it('--json shows T01-T04 covered by segmentation, retransmission and window', async () => {
    const r = await runCli(['claims', '--json', '--captures', mkdtempSync(path.join(os.tmpdir(), 'wl-none-'))]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; labs: string[] }[];
    const labsOf = (id: string): string[] => rows.find((x) => x.id === id)?.labs ?? [];
    expect(labsOf('T01')).toContain('segmentation');
    expect(labsOf('T02')).toContain('segmentation');
    expect(labsOf('T03')).toContain('retransmission');
    expect(labsOf('T04')).toContain('window');
  });
});
