/**
 * Checks and verdicts. A lab builds checks with `check.*` (each remembers the lab's own file:line,
 * source-mapped when the CLI enables source maps, so a failure points at the lab, packetdrill-style);
 * the runner turns a claim's rule into its verdict: every check holds -> confirmed (or differs, when
 * the rule carries a differs note), any check fails -> refuted. judgeRun judges one finished run:
 * its setup expectations, each claim's rule, the lab's own checks and its story.
 */
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { describeError } from '../errors.js';
import { claimsOf } from './catalogue.js';
import type { ParamSpecs } from './params.js';
import { repoRoot } from './paths.js';
import type { AnyLab, Check, ClaimResult, ClaimRule, LabJudgeContext, LabOutcome, Setup } from './types.js';

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

/** Every claim of the lab, untestable for `why` (the lab did not run, or not far enough). */
export function untestable(lab: AnyLab, why: string): ClaimResult[] {
  return claimsOf(lab).map((id) => ({ id, verdict: 'untestable' as const, evidence: why }));
}

/** Facts, setup expectations, claim rules, lab checks, story: the verdicts of one finished run. */
export function judgeRun(lab: AnyLab, jctx: LabJudgeContext<ParamSpecs>, outcome: LabOutcome): void {
  const setupChecks: Check[] = [];
  const setup: Setup = {
    expect(text, cond, actual = cond, expected = true) {
      setupChecks.push({ ...check.ok(text, cond, actual, expected), text: `setup: ${text}` });
      return cond;
    },
  };
  if (!outcome.captureStats!.complete) {
    setup.expect('the capture is complete (tcpdump: 0 packets dropped by kernel)', false, outcome.captureStats!.droppedByKernel, 0);
  }
  let facts: unknown = null;
  try {
    facts = lab.facts(jctx, setup);
  } catch (e) {
    setup.expect(`the lab's facts were gathered without error (${describeError(e)})`, false, describeError(e), 'no error');
  }
  const failedSetup = setupChecks.filter((c) => !c.ok);
  if (failedSetup.length || facts === null) {
    outcome.expectations = setupChecks;
    outcome.verdict = 'fail';
    const what = failedSetup.map((c) => c.text.replace(/^setup: /, '')).join('; ') || 'the lab found no facts to judge';
    outcome.reason = `setup failed: ${what}`;
    outcome.claims = untestable(lab, `the run did not set up what this claim needs: ${what}`);
    return;
  }
  const checks: Check[] = [...setupChecks];
  outcome.claims = claimsOf(lab).map((id) => {
    const v = verdictOf(id, () => lab.claims[id]!(facts, jctx));
    checks.push(...v.checks.map((c) => ({ ...c, text: `${id}: ${c.text}` })));
    return v.result;
  });
  try {
    checks.push(...(lab.checks?.(facts, jctx) ?? []));
  } catch (e) {
    checks.push(check.ok(`the lab's checks ran without error`, false, describeError(e), 'no error'));
  }
  try {
    outcome.story = lab.story?.(facts, jctx) ?? null;
  } catch (e) {
    outcome.story = `(the lab's story failed: ${describeError(e)})`;
  }
  outcome.expectations = checks;
  const failed = checks.filter((c) => !c.ok);
  outcome.verdict = failed.length ? 'fail' : 'pass';
  outcome.reason = failed.length ? `${failed.length} of ${checks.length} expectations failed` : null;
}
