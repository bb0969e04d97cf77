/** The `wirelab run --json` object and report.json: exactly the contract in DESIGN.md. */
import type { LabOutcome } from '../lab/types.js';
import type { ClaimVerdict } from '../lab/types.js';
import { toInspectJson, type InspectJson } from './json.js';

export interface RunJson {
  run: string;
  dir: string;
  kernel: string;
  labs: {
    lab: string;
    verdict: 'pass' | 'fail' | 'error' | 'skipped';
    reason: string | null;
    capture: string | null;
    durationMs: number;
    claims: { id: string; verdict: ClaimVerdict; evidence: string }[];
    expectations: { text: string; ok: boolean; expected: unknown; actual: unknown }[];
    inspect: InspectJson | null;
  }[];
}

export function toRunJson(run: string, dir: string, kernel: string, outcomes: LabOutcome[]): RunJson {
  return {
    run,
    dir,
    kernel,
    labs: outcomes.map((o) => ({
      lab: o.lab,
      verdict: o.verdict,
      reason: o.reason,
      capture: o.capture,
      durationMs: o.durationMs,
      claims: o.claims.map((c) => ({ id: c.id, verdict: c.verdict, evidence: c.evidence })),
      expectations: o.expectations.map((e) => ({ text: e.text, ok: e.ok, expected: e.expected, actual: e.actual })),
      inspect: o.analysis ? toInspectJson(o.analysis) : null,
    })),
  };
}
