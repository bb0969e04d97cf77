/**
 * Checks and verdicts. A lab builds checks with `check.*` (each remembers the lab's own file:line,
 * source-mapped when the CLI enables source maps, so a failure points at the lab, packetdrill-style);
 * the runner turns a claim's rule into its verdict: every check holds -> confirmed (or differs, when
 * the rule carries a differs note), any check fails -> refuted.
 */
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { repoRoot } from './paths.js';
import type { Check, ClaimResult, ClaimRule } from './types.js';

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function make(text: string, ok: boolean, actual: unknown, expected: unknown, packets: (number | null | undefined)[]): Check {
  return { text, ok, actual, expected, at: callerLocation(repoRoot), packets: packets.filter((p): p is number => typeof p === 'number') };
}

export const check = {
  /** Deep equality. */
  eq(text: string, actual: unknown, expected: unknown, packets: (number | null | undefined)[] = []): Check {
    return make(text, isDeepStrictEqual(actual, expected), actual, expected, packets);
  },
  /** A condition; `actual` and `expected` are what a failure prints. */
  ok(text: string, cond: boolean, actual: unknown, expected: unknown, packets: (number | null | undefined)[] = []): Check {
    return make(text, cond, actual, expected, packets);
  },
  /** A timing or count within a tolerance: |actual - expected| <= max(abs, rel * |expected|). */
  near(text: string, actual: number | null | undefined, expected: number, tol: { abs?: number; rel?: number }, packets: (number | null | undefined)[] = []): Check {
    const allowed = Math.max(tol.abs ?? 0, (tol.rel ?? 0) * Math.abs(expected));
    const ok = typeof actual === 'number' && Number.isFinite(actual) && Math.abs(actual - expected) <= allowed;
    return make(text, ok, typeof actual === 'number' ? round(actual) : null, `${expected} ± ${round(allowed)}`, packets);
  },
  /** lo <= actual <= hi */
  within(text: string, actual: number | null | undefined, lo: number, hi: number, packets: (number | null | undefined)[] = []): Check {
    const ok = typeof actual === 'number' && actual >= lo && actual <= hi;
    return make(text, ok, typeof actual === 'number' ? round(actual) : null, `${lo}..${hi}`, packets);
  },
};

/** The verdict of one claim rule (a rule that throws is the lab's bug: refuted with the error). */
export function verdictOf(id: string, rule: () => ClaimRule): { result: ClaimResult; checks: Check[] } {
  let r: ClaimRule;
  try {
    r = rule();
  } catch (e) {
    const c = make(`${id}: the lab's rule ran without error`, false, (e as Error).message, 'no error', []);
    return { result: { id, verdict: 'refuted', evidence: `the lab's rule for ${id} failed: ${(e as Error).message}` }, checks: [c] };
  }
  if ('untestable' in r) return { result: { id, verdict: 'untestable', evidence: r.untestable }, checks: [] };
  const failed = r.checks.filter((c) => !c.ok);
  if (failed.length) {
    return { result: { id, verdict: 'refuted', evidence: `${r.evidence} (failed: ${failed.map((c) => c.text).join('; ')})` }, checks: r.checks };
  }
  if (r.differs) {
    const d = r.differs;
    return {
      result: { id, verdict: 'differs', evidence: `${r.evidence}. The textbook: ${d.textbook}; Linux: ${d.linux}; measured: ${d.measured}`, differs: d },
      checks: r.checks,
    };
  }
  return { result: { id, verdict: 'confirmed', evidence: r.evidence }, checks: r.checks };
}

/** The first stack frame outside src/lab/: the lab's own line, relative to the repository root. */
export function callerLocation(root: string): string {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const file = m[1]!.replace(/^file:\/\//, '');
    if (/[\\/]src[\\/]lab[\\/]/.test(file) || file.includes('node:')) continue;
    return `${path.relative(root, file)}:${m[2]}`;
  }
  return 'unknown';
}
