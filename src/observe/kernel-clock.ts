/**
 * Putting bpftrace's times on the pcap's clock. bpftrace's `nsecs` is a kernel clock (monotonic, or
 * boot time on newer bpftrace); pcap timestamps are CLOCK_REALTIME. Two measured links, each an
 * interval, so the error is known rather than assumed:
 *   monotonic -> realtime: spin on Date.now() until its millisecond ticks; the tick (realtime
 *     k ms exactly) happened between two process.hrtime() reads (CLOCK_MONOTONIC) ~0.1 µs apart.
 *   monotonic -> kernel time: fsync() of a marker descriptor between two hrtime() reads; bpftrace
 *     prints `nsecs` at that syscall's entry. No assumption about which clock bpftrace uses.
 * Each link is measured a few times and the narrowest interval kept.
 */
import { fsyncSync } from 'node:fs';

export interface Interval {
  mid: number; // ns
  half: number; // ns
}

/** realtime - monotonic in ns, as [mid ± half] (an offset ~1.7e18 ns: carried as bigint parts). */
export interface RealtimeOffset {
  offsetNs: bigint;
  halfNs: number;
}

/** Measure realtime - CLOCK_MONOTONIC from Date.now() millisecond edges (spins at most ~1 ms per try). */
export function realtimeMinusMonotonic(tries = 3): RealtimeOffset {
  let best: RealtimeOffset | null = null;
  for (let i = 0; i < tries; i++) {
    let prevT = process.hrtime.bigint();
    let prev = Date.now();
    for (;;) {
      const t = process.hrtime.bigint();
      const v = Date.now();
      if (v !== prev) {
        const t2 = process.hrtime.bigint();
        // realtime crossed v ms between the previous Date.now() (after prevT) and this one (before t2)
        if (v === prev + 1) {
          const half = Number(t2 - prevT) / 2;
          const offsetNs = BigInt(v) * 1_000_000n - (prevT + BigInt(Math.round(half)));
          if (!best || half < best.halfNs) best = { offsetNs, halfNs: half };
        }
        break;
      }
      prevT = t;
      prev = v;
    }
  }
  return best ?? { offsetNs: BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint(), halfNs: 1e6 };
}

/** fsync(marker) bracketed by hrtime reads: [before, after] in monotonic ns. The marker fd is invalid. */
export function markerSyscall(marker: number): { before: bigint; after: bigint } {
  const before = process.hrtime.bigint();
  try {
    fsyncSync(marker);
  } catch {
    // EBADF: the point is the syscall's entry, which bpftrace saw
  }
  const after = process.hrtime.bigint();
  return { before, after };
}

/** One calibration point: kernel time k corresponds to realtime (k + offset) ± half. */
export interface CalibrationPoint {
  kernelNs: number;
  offsetNs: bigint; // realtime - kernel time
  halfNs: number;
}

/**
 * From marker brackets and the kernel times bpftrace printed for them (same order), and a realtime
 * offset: the narrowest calibration point.
 */
export function calibrationPoint(brackets: { before: bigint; after: bigint }[], kernelNs: bigint[], rt: RealtimeOffset): CalibrationPoint | null {
  let best: CalibrationPoint | null = null;
  for (let i = 0; i < Math.min(brackets.length, kernelNs.length); i++) {
    const b = brackets[i]!;
    const half = Number(b.after - b.before) / 2;
    const monoMid = b.before + BigInt(Math.round(half));
    // kernel - monotonic = kernelNs - monoMid; realtime - kernel = rt.offset - (kernel - monotonic)
    const offsetNs = rt.offsetNs - (kernelNs[i]! - monoMid);
    const total = half + rt.halfNs;
    if (!best || total < best.halfNs) best = { kernelNs: Number(kernelNs[i]!), offsetNs, halfNs: total };
  }
  return best;
}

/**
 * Kernel ns -> epoch seconds: the start point's offset, moved linearly toward the end point's
 * when there is one (the two differ by the clocks' drift over the run, normally < 1 µs).
 */
export function kernelToEpoch(start: CalibrationPoint, end: CalibrationPoint | null): (kernelNs: number) => number {
  const base = start.offsetNs / 1_000_000_000n; // whole seconds
  const baseS = Number(base);
  const rem0 = Number(start.offsetNs - base * 1_000_000_000n); // ns, < 1e9
  const slope = end && end.kernelNs !== start.kernelNs ? Number(end.offsetNs - start.offsetNs) / (end.kernelNs - start.kernelNs) : 0;
  return (k) => baseS + (k + rem0 + slope * (k - start.kernelNs)) / 1e9;
}
