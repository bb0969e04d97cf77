/**
 * The judge a lab's `judge()` writes its expectations and claim verdicts into. An expectation
 * remembers where the lab wrote it (file:line, from the stack, source-mapped when the CLI enables
 * source maps) so a failure points at the lab's own line, packetdrill-style.
 */
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import type { ClaimResult, ClaimVerdict, ExpectationResult, Judge } from './types.js';

const CLAIM_VERDICTS: ReadonlySet<string> = new Set(['confirmed', 'differs', 'refuted', 'untestable']);

export class LabJudge implements Judge {
  readonly expectations: ExpectationResult[] = [];
  readonly claims: ClaimResult[] = [];

  constructor(private readonly root: string) {}

  equal(text: string, actual: unknown, expected: unknown, packets: number[] = []): boolean {
    return this.record(text, isDeepStrictEqual(actual, expected), actual, expected, packets);
  }

  ok(text: string, cond: boolean, actual: unknown, expected: unknown, packets: number[] = []): boolean {
    return this.record(text, cond, actual, expected, packets);
  }

  near(text: string, actual: number | null, expected: number, tol: { abs?: number; rel?: number }, packets: number[] = []): boolean {
    const allowed = Math.max(tol.abs ?? 0, (tol.rel ?? 0) * Math.abs(expected));
    const ok = actual !== null && Number.isFinite(actual) && Math.abs(actual - expected) <= allowed;
    const shown = tol.rel !== undefined && tol.abs === undefined ? `${expected} ± ${tol.rel * 100}%` : `${expected} ± ${round(allowed)}`;
    return this.record(text, ok, actual === null ? null : round(actual), shown, packets);
  }

  claim(id: string, verdict: ClaimVerdict, evidence: string): void {
    if (!CLAIM_VERDICTS.has(verdict)) throw new TypeError(`claim ${id}: verdict must be confirmed|differs|refuted|untestable, got ${String(verdict)}`);
    const existing = this.claims.find((c) => c.id === id);
    if (existing) {
      // A claim judged twice keeps the weakest verdict, with both pieces of evidence.
      existing.verdict = weaker(existing.verdict, verdict);
      existing.evidence = `${existing.evidence}; ${evidence}`;
      return;
    }
    this.claims.push({ id, verdict, evidence });
  }

  private record(text: string, ok: boolean, actual: unknown, expected: unknown, packets: number[]): boolean {
    this.expectations.push({ text, ok, expected, actual, at: callerLocation(this.root), packets });
    return ok;
  }
}

const ORDER: ClaimVerdict[] = ['refuted', 'differs', 'untestable', 'confirmed'];
function weaker(a: ClaimVerdict, b: ClaimVerdict): ClaimVerdict {
  return ORDER.indexOf(a) <= ORDER.indexOf(b) ? a : b;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
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
