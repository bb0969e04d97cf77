/**
 * A grid of UDP experiments: every combination of the listed receive buffers, rates, sizes,
 * losses and work times, each in its own fresh sandbox, `jobs` at a time. Every cell is built
 * and checked before the first one runs; a cell that fails is a row with its error, the rest go on.
 */
import { WirelabError } from '../errors.js';
import { runUdpInFreshSandbox } from './engine.js';
import { formatRate, parsePercent, parseRate, parseRcvbuf, parseSize, parseWorkUs, validateParams, type UdpParams } from './params.js';
import type { UdpResult } from './result.js';

export type SweepAxis = 'rcvbuf' | 'rate' | 'size' | 'loss' | 'workUs';
export const AXES: SweepAxis[] = ['rcvbuf', 'rate', 'size', 'loss', 'workUs'];

export interface SweepGrid {
  base: UdpParams; // everything that is not swept
  rcvbuf: (number | null)[];
  rate: (number | 'max')[];
  size: number[];
  loss: number[];
  workUs: number[];
}

export interface SweepCell {
  index: number; // 0-based, in grid order
  params: UdpParams;
  /** The swept values as the user typed them ("64k", "max", "1%"), for labels. */
  labels: Record<SweepAxis, string>;
}

export interface SweepRow {
  cell: SweepCell;
  result: UdpResult | null;
  error: string | null;
}

/** "8k,64k,1m" -> values through `parse`; an empty list (or an empty item) is a usage error. */
export function parseList<T>(text: string | undefined, flag: string, parse: (s: string, flag: string) => T, dflt: T): { values: T[]; labels: string[] } {
  if (text === undefined) return { values: [dflt], labels: [] };
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) {
    throw new WirelabError('BAD_USAGE', `${flag} ${JSON.stringify(text)}: an empty value in the list; give one or more values separated by commas, e.g. ${flag} 8k,64k,1m`);
  }
  return { values: items.map((s) => parse(s, flag)), labels: items };
}

export interface SweepFlags {
  rcvbuf?: string;
  rate?: string;
  size?: string;
  loss?: string;
  workUs?: string;
}

export interface ParsedGrid {
  grid: SweepGrid;
  labels: Record<SweepAxis, string[]>;
}

export function parseGrid(flags: SweepFlags, base: UdpParams): ParsedGrid {
  const rcvbuf = parseList(flags.rcvbuf, '--rcvbuf', parseRcvbuf, base.rcvbuf);
  const rate = parseList(flags.rate, '--rate', parseRate, base.rate);
  const size = parseList(flags.size, '--size', parseSize, base.size);
  const loss = parseList(flags.loss, '--loss', parsePercent, base.loss);
  const workUs = parseList(flags.workUs, '--work-us', parseWorkUs, base.workUs);
  const label = <T>(l: { values: T[]; labels: string[] }, f: (v: T) => string): string[] => (l.labels.length ? l.labels : l.values.map(f));
  return {
    grid: { base, rcvbuf: rcvbuf.values, rate: rate.values, size: size.values, loss: loss.values, workUs: workUs.values },
    labels: {
      rcvbuf: label(rcvbuf, (v) => (v === null ? 'default' : String(v))),
      rate: label(rate, formatRate),
      size: label(size, String),
      loss: label(loss, (v) => `${v}%`),
      workUs: label(workUs, String),
    },
  };
}

/** Every combination, in the order the axes are listed; each checked (pacing only where a rate is given). */
export function cells(g: ParsedGrid): SweepCell[] {
  const out: SweepCell[] = [];
  const { grid, labels } = g;
  grid.rcvbuf.forEach((rcvbuf, i) =>
    grid.rate.forEach((rate, j) =>
      grid.size.forEach((size, k) =>
        grid.loss.forEach((loss, l) =>
          grid.workUs.forEach((workUs, m) => {
            const params = validateParams({ ...grid.base, rcvbuf, rate, size, loss, workUs, pace: grid.base.pace && rate !== 'max' });
            out.push({
              index: out.length,
              params,
              labels: { rcvbuf: labels.rcvbuf[i]!, rate: labels.rate[j]!, size: labels.size[k]!, loss: labels.loss[l]!, workUs: labels.workUs[m]! },
            });
          }),
        ),
      ),
    ),
  );
  if (out.length === 0) throw new WirelabError('BAD_USAGE', 'the sweep grid is empty: give at least one value for each swept flag');
  return out;
}

/** The axes with more than one value, in AXES order (the first is the plot's x axis). */
export function sweptAxes(g: SweepGrid): SweepAxis[] {
  return AXES.filter((a) => g[a].length > 1);
}

/** Run the cells `jobs` at a time; onDone after each (for the progress bar). */
export async function runSweep(list: SweepCell[], opts: { jobs: number; dir: string; onDone?: (row: SweepRow, done: number) => void }): Promise<SweepRow[]> {
  const rows: SweepRow[] = new Array(list.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= list.length) return;
      const cell = list[i]!;
      let row: SweepRow;
      try {
        const name = `cell-${String(i + 1).padStart(3, '0')}`;
        row = { cell, result: await runUdpInFreshSandbox(cell.params, { dir: opts.dir, name }), error: null };
      } catch (e) {
        if (e instanceof WirelabError && e.exitCode === 3) throw e; // the machine cannot run any cell
        row = { cell, result: null, error: (e as Error).message };
      }
      rows[i] = row;
      opts.onDone?.(row, ++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, list.length)) }, worker));
  return rows;
}
