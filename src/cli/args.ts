/** Argument parsing on node:util parseArgs, with usage errors that say what to type instead. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WirelabError } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(command: string, argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    const msg = (e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '');
    throw new WirelabError('BAD_USAGE', `wirelab ${command}: ${msg}\nusage: ${usage}`);
  }
}

/** `--param k=v` (repeatable) into a record. */
export function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new WirelabError('BAD_USAGE', `${flag} ${item}: expected key=value, e.g. ${flag} serverDelayMs=0`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function intOption(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new WirelabError('BAD_USAGE', `${flag} ${value}: expected a whole number >= ${min}`);
  return n;
}
