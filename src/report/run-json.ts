/** The `wirelab run --json` object and report.json: exactly the contract in DESIGN.md. */
import type { LabOutcome } from '../lab/types.js';
import type { ClaimVerdict, Differs } from '../lab/types.js';
import type { KernelEventsSummary } from '../observe/kernel-types.js';
import { toInspectJson, type InspectJson } from './json.js';
import { toObservedJson, type ObservedJson } from './observed-json.js';
import type { UdpExperimentJson } from '../lab/udp-context.js';

export interface RunJson {
  run: string;
  dir: string;
  kernel: string;
  labs: {
    lab: string;
    family: 4 | 6;
    verdict: 'pass' | 'fail' | 'error' | 'skipped';
    reason: string | null;
    capture: string | null;
    durationMs: number;
    params: Record<string, unknown>;
    claims: { id: string; verdict: ClaimVerdict; evidence: string; differs?: Differs }[];
    expectations: { text: string; ok: boolean; expected: unknown; actual: unknown; at: string }[];
    story: string | null;
    inspect: InspectJson | null;
    /** The observations the HTML report draws (src/report/observed-json.ts); null when the lab captured nothing. */
    observed: ObservedJson | null;
    /**
     * The kernel's own events (tracepoints): how many by kind, lost, the clock's error and drift, drops
     * per reason counted in the kernel; or why there were none and the fix. The events themselves are
     * the rows of `observed.kernel`. null: the lab did not get that far.
     */
    kernelEvents: KernelEventsSummary | null;
    /** The lab's UDP experiments (sent, received, lost, causes, the model), null when it ran none (README: JSON contracts). */
    udp: UdpExperimentJson[] | null;
  }[];
}

export function toRunJson(run: string, dir: string, kernel: string, outcomes: LabOutcome[]): RunJson {
  return {
    run,
    dir,
    kernel,
    labs: outcomes.map((o) => ({
      lab: o.lab,
      family: o.family,
      verdict: o.verdict,
      reason: o.reason,
      capture: o.capture,
      durationMs: o.durationMs,
      params: o.params,
      claims: o.claims.map((c) => ({ id: c.id, verdict: c.verdict, evidence: c.evidence, ...(c.differs ? { differs: c.differs } : {}) })),
      expectations: o.expectations.map((e) => ({ text: e.text, ok: e.ok, expected: e.expected, actual: e.actual, at: e.at })),
      story: o.story,
      inspect: o.analysis ? toInspectJson(o.analysis) : null,
      observed: toObservedJson(o),
      kernelEvents: o.kernelEvents,
      udp: o.udp,
    })),
  };
}
