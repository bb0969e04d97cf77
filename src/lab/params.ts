/**
 * Typed lab parameters: each has a type, a default, a range or a set of values, and help. The
 * user's `--param k=v` strings are validated against them before anything runs (a namespace, a
 * capture): an unknown name or a value out of range is a BAD_USAGE error (exit 2) that lists the
 * lab's params with their types. Sweeps reuse the same specs.
 */
import { WirelabError } from '../errors.js';

export type ParamSpec =
  | { type: 'int'; default: number; min?: number; max?: number; help: string }
  | { type: 'number'; default: number; min?: number; max?: number; help: string }
  | { type: 'boolean'; default: boolean; help: string }
  | { type: 'enum'; values: readonly string[]; default: string; help: string };

export type ParamSpecs = Record<string, ParamSpec>;

type ValueOf<S extends ParamSpec> = S extends { type: 'boolean' } ? boolean : S extends { type: 'enum' } ? string : number;
export type ParamValues<P extends ParamSpecs> = { readonly [K in keyof P]: ValueOf<P[K]> };

/** "synackRetries (int 1..6, default 2): how many SYN-ACK retransmissions" */
export function describeParam(name: string, p: ParamSpec): string {
  let type: string;
  switch (p.type) {
    case 'int':
    case 'number':
      type = `${p.type}${p.min !== undefined || p.max !== undefined ? ` ${p.min ?? '-inf'}..${p.max ?? 'inf'}` : ''}`;
      break;
    case 'boolean':
      type = 'true|false';
      break;
    case 'enum':
      type = p.values.join('|');
      break;
  }
  return `${name} (${type}, default ${String(p.default)}): ${p.help}`;
}

function listing(lab: string, specs: ParamSpecs): string {
  const names = Object.keys(specs);
  if (!names.length) return `lab ${lab} takes no params`;
  return `lab ${lab} takes: ${names.map((n) => describeParam(n, specs[n]!)).join('; ')}`;
}

function parseOne(lab: string, specs: ParamSpecs, name: string, raw: string): number | boolean | string {
  const p = specs[name]!;
  const bad = (why: string): WirelabError =>
    new WirelabError('BAD_USAGE', `--param ${name}=${raw}: ${why}. ${listing(lab, specs)}`, { lab, param: name });
  switch (p.type) {
    case 'int':
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw bad(`${name} is ${p.type === 'int' ? 'a whole number' : 'a number'}`);
      if (p.type === 'int' && !Number.isInteger(n)) throw bad(`${name} is a whole number`);
      if ((p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max)) throw bad(`${name} must be within ${p.min ?? '-inf'}..${p.max ?? 'inf'}`);
      return n;
    }
    case 'boolean':
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw bad(`${name} is true or false`);
    case 'enum':
      if (!p.values.includes(raw)) throw bad(`${name} is one of ${p.values.join(', ')}`);
      return raw;
  }
}

/** The lab's params: defaults, overridden by the user's validated values. Throws BAD_USAGE (exit 2). */
export function resolveParams(lab: string, specs: ParamSpecs | undefined, given: Record<string, string>): Record<string, number | boolean | string> {
  const s = specs ?? {};
  const out: Record<string, number | boolean | string> = {};
  for (const [k, p] of Object.entries(s)) out[k] = p.default;
  for (const [k, raw] of Object.entries(given)) {
    if (!(k in s)) throw new WirelabError('BAD_USAGE', `--param ${k}: lab ${lab} has no param "${k}". ${listing(lab, s)}`, { lab, param: k });
    out[k] = parseOne(lab, s, k, raw);
  }
  return out;
}

/** A lab author's mistake in a spec (a default outside its own range): caught by the catalogue test. */
export function specProblems(specs: ParamSpecs | undefined): string[] {
  const out: string[] = [];
  for (const [k, p] of Object.entries(specs ?? {})) {
    if (!p.help) out.push(`${k}: no help text`);
    if ((p.type === 'int' || p.type === 'number') && ((p.min !== undefined && p.default < p.min) || (p.max !== undefined && p.default > p.max))) {
      out.push(`${k}: default ${p.default} outside ${p.min}..${p.max}`);
    }
    if (p.type === 'enum' && !p.values.includes(p.default)) out.push(`${k}: default ${p.default} not among ${p.values.join(', ')}`);
  }
  return out;
}
