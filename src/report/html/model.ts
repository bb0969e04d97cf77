/**
 * What the HTML report draws, gathered from the runner (a LabOutcome, or report.json again) and
 * the analysis of each capture. Nothing here is a new fact: it names where each drawn thing
 * comes from, plus the page's limits (how many connections are drawn, how many left out).
 */
import type { Analysis } from '../../analyze/model.js';
import type { ObservedJson } from '../observed-json.js';

export interface HtmlClaim {
  id: string;
  verdict: 'confirmed' | 'differs' | 'refuted' | 'untestable';
  evidence: string;
  text: string | null; // the claim in the catalogue's words
  differs?: { textbook: string; linux: string; measured: string };
}

export interface HtmlLab {
  lab: string;
  title: string | null;
  explanation: string | null;
  family: 4 | 6;
  verdict: 'pass' | 'fail' | 'error' | 'skipped';
  reason: string | null;
  durationMs: number;
  params: Record<string, unknown>;
  story: string | null;
  claims: HtmlClaim[];
  failed: { text: string; expected: unknown; actual: unknown; at: string }[];
  /** The pcap, as a link relative to the HTML file (null: none). */
  captureHref: string | null;
  captureName: string | null;
  analysis: Analysis | null;
  observed: ObservedJson | null;
  /** The lab's UDP experiments (report.json `labs[].udp`, an array), or one experiment's result (src/udp/result.ts). */
  udp?: unknown;
}

export interface HtmlPlot {
  name: string;
  svg: string; // an SVG document, embedded as an image (its own scripts never run)
}

export interface HtmlLimits {
  /** Connections drawn (ladders and table rows) per capture; the rest are counted, not drawn. */
  connections: number;
  /** Segments drawn per ladder. */
  segments: number;
}

export const DEFAULT_LIMITS: HtmlLimits = { connections: 50, segments: 400 };

export interface HtmlReport {
  title: string;
  /** One line under the title: the run, the kernel, or the file inspected. */
  subtitle: string;
  /** A run's labs (empty for `inspect --html`). */
  labs: HtmlLab[];
  /** `inspect --html`: the one capture, its link, and how many TCP connections it has in all. */
  inspect: { analysis: Analysis; captureHref: string | null; tcpTotal: number } | null;
  plots: HtmlPlot[];
  limits: HtmlLimits;
  generated: string; // ISO time the page was written
}
