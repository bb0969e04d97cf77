/**
 * The reordering, duplicates and checksum labs (T05-T07), run for real through the CLI in one run
 * per family: each lab's verdict and each claim's verdict, the stream checked end to end, and
 * Wireshark's view of each capture (tshark's tcp.analysis flags) against the analyzer's marks,
 * packet by packet. For the checksum lab, tshark with checksum validation names the spoiled
 * segment as the one client segment with a bad checksum.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStream } from '../../../src/analyze/pipeline.js';
import { isRoot, root } from '../../support/cli.js';
import { runLabs } from '../../support/lab-run.js';

const LABS = ['reordering', 'duplicates', 'checksum'];
const EXPECTED: Record<string, string> = { T05: 'confirmed', T06: 'differs', T07: 'confirmed' };

type Marks = Record<'retransmission' | 'fast' | 'spurious' | 'dupAck' | 'outOfOrder', number[]>;

/** tshark's marks per frame number (tcp.analysis.retransmission is also set on fast and spurious ones). */
function tsharkMarks(file: string): { marks: Marks; badChecksum: number[] } {
  const fields = ['frame.number', 'tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.spurious_retransmission',
    'tcp.analysis.duplicate_ack', 'tcp.analysis.out_of_order', 'tcp.checksum.status', 'tcp.len', 'tcp.dstport'];
  const argv = ['-r', file, '-n', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', '-Y', 'tcp', ...fields.flatMap((f) => ['-e', f])];
  const r = spawnSync('tshark', argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  const marks: Marks = { retransmission: [], fast: [], spurious: [], dupAck: [], outOfOrder: [] };
  const badChecksum: number[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const [frame, retrans, fast, spurious, dup, ooo, csum] = line.split('\t');
    const n = Number(frame);
    if (retrans) marks.retransmission.push(n);
    if (fast) marks.fast.push(n);
    if (spurious) marks.spurious.push(n);
    if (dup) marks.dupAck.push(n);
    if (ooo) marks.outOfOrder.push(n);
    if (csum === '0') badChecksum.push(n); // 0: Bad, 1: Good, 2: Unverified
  }
  return { marks, badChecksum };
}

async function analyzerMarks(file: string): Promise<{ marks: Marks; clientData: number[] }> {
  const a = await inspectStream(createReadStream(file), { file, keepSegments: true });
  const marks: Marks = { retransmission: [], fast: [], spurious: [], dupAck: [], outOfOrder: [] };
  const clientData: number[] = [];
  for (const c of a.tcp) {
    for (const s of c.segments) {
      const m = s.marks;
      if (m.includes('retransmission') || m.includes('fast-retransmission') || m.includes('spurious-retransmission')) marks.retransmission.push(s.packet);
      if (m.includes('fast-retransmission')) marks.fast.push(s.packet);
      if (m.includes('spurious-retransmission')) marks.spurious.push(s.packet);
      if (m.includes('dup-ack')) marks.dupAck.push(s.packet);
      if (m.includes('out-of-order')) marks.outOfOrder.push(s.packet);
      if (s.from === 'client' && s.len > 0) clientData.push(s.packet);
    }
  }
  for (const k of Object.keys(marks) as (keyof Marks)[]) marks[k].sort((x, y) => x - y);
  return { marks, clientData };
}

/** "packet 16 (bytes ...": the first packet number an evidence sentence names. */
const firstPacket = (evidence: string): number => Number(/packet (\d+)/.exec(evidence)?.[1]);

describe.skipIf(!isRoot)('the loss labs T05-T07 (needs root)', () => {
  for (const family of [4, 6] as const) {
    it(`reordering, duplicates and checksum pass over IPv${family}; tshark agrees with the analyzer's marks`, async () => {
      const r = await runLabs(LABS, family, { jobs: 3, timeoutMs: 180_000, tag: 'loss-b' });
      const { labs, failed } = r;
      expect(failed, r.stderr).toEqual([]);
      expect(labs.map((l) => [l.lab, l.family, l.verdict, l.reason])).toEqual(LABS.map((n) => [n, family, 'pass', null]));
      expect(r.code).toBe(0);
      expect(r.verdicts).toEqual(EXPECTED);
      const by = Object.fromEntries(labs.map((l) => [l.lab, l]));
      const claim = (lab: string) => by[lab]!.claims[0]!;
      // The streams were intact: the evidence names the reader's count and the matching hash.
      for (const lab of LABS) expect(claim(lab).evidence, lab).toMatch(/the application read (\d+) of \1 bytes, sha256 [0-9a-f]{12}… = the sender's/);
      expect(claim('duplicates').differs!.measured).toMatch(/^\d+ D-SACK\(s\) for \d+ duplicate\(s\), the first \[\d+, \d+\) below ack \d+/);
      for (const l of labs) expect(l.story, l.lab).toMatch(/\d/);

      for (const l of labs) {
        const file = path.resolve(root, l.capture!);
        const ts = tsharkMarks(file);
        const an = await analyzerMarks(file);
        expect(an.marks, `${l.lab}: analyzer vs tshark marks`).toEqual(ts.marks);
        if (l.lab === 'reordering' || l.lab === 'checksum') {
          // The hole's retransmission: exactly one data segment, and tshark calls it a (fast)
          // retransmission too (under load a FIN may be probed again as well: not data).
          expect(ts.marks.retransmission.filter((n) => an.clientData.includes(n)), l.lab).toHaveLength(1);
          expect(ts.marks.dupAck.length, l.lab).toBeGreaterThanOrEqual(1);
        }
        if (l.lab === 'duplicates') {
          expect(ts.marks.spurious.length, 'duplicates: spurious retransmissions').toBeGreaterThanOrEqual(1);
        }
        if (l.lab === 'checksum') {
          // Only the spoiled segment fails tshark's checksum check among the client's data segments
          // (the server's own ACKs may show "bad": its tx checksumming is still offloaded).
          const spoiled = firstPacket(claim('checksum').evidence);
          expect(ts.badChecksum.filter((n) => an.clientData.includes(n))).toEqual([spoiled]);
        }
      }
    }, 200_000);
  }
});
