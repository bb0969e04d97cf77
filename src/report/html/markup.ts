/**
 * Small markup helpers shared by the HTML renderers: escaping for text and attributes, number
 * formats, and the words for verdicts. No facts: formatting only.
 */

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value, escaped for HTML and SVG. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** Seconds with microsecond precision, as inspect prints them. */
export function secs(t: number): string {
  return t.toFixed(6);
}

/** A duration for people: 12 µs, 3.4 ms, 1.25 s, 60.0 s. */
export function dur(s: number): string {
  const a = Math.abs(s);
  if (a < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (a < 1) return `${(s * 1e3).toFixed(a < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(a < 10 ? 2 : 1)} s`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A value from report.json printed for people (strings as they are, others as JSON). */
export function shown(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export const VERDICT_WORD: Record<string, string> = {
  pass: 'passed',
  fail: 'failed',
  error: 'error',
  skipped: 'skipped',
  confirmed: 'confirmed',
  differs: 'differs',
  refuted: 'refuted',
  untestable: 'untestable',
};

/** A slug usable as an element id. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** A badge for a verdict: a word in a coloured pill (colour and word, never colour alone). */
export function badge(verdict: string): string {
  return `<span class="badge v-${esc(verdict)}">${esc(VERDICT_WORD[verdict] ?? verdict)}</span>`;
}

/** `<details>` with a summary line. */
export function details(summary: string, body: string, open = false): string {
  return `<details${open ? ' open' : ''}><summary>${summary}</summary>${body}</details>`;
}
