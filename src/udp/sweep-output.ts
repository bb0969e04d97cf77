/**
 * A sweep's results as a flat table (one row per cell): the CSV file, the JSON object
 * (`wirelab sweep udp --json`), and the records the plot draws.
 */
import type { UdpCauseId } from './result.js';
import { AXES, type SweepAxis, type SweepGrid, type SweepRow } from './sweep.js';

export interface SweepRecord {
  cell: number;
  rcvbuf: string;
  rate: string;
  size: string;
  loss: string;
  workUs: string;
  family: number;
  topology: string;
  count: number;
  sent: number | null;
  received: number | null;
  lost: number | null;
  lossPercent: number | null;
  lossText: string | null;
  outOfOrder: number | null;
  duplicates: number | null;
  jitterMs: number | null;
  senderRate: number | null;
  rcvbufEffective: number | null;
  causes: Record<UdpCauseId, number> | null;
  unexplained: number | null;
  packetsPerDatagram: number | null;
  modelLossPercent: number | null;
  ruleLossPercent: number | null; // datagrams charged to the loss rule, in percent
  captureComplete: boolean | null;
  error: string | null;
}

export function toRecords(rows: SweepRow[]): SweepRecord[] {
  return rows.map(({ cell, result: r, error }) => ({
    cell: cell.index + 1,
    ...cell.labels,
    family: cell.params.family,
    topology: cell.params.topology,
    count: cell.params.count,
    sent: r ? r.sender.attempted : null,
    received: r ? r.receiver.received : null,
    lost: r ? r.receiver.lost : null,
    lossPercent: r ? r.receiver.lossPercent : null,
    lossText: r ? r.receiver.lossText : null,
    outOfOrder: r ? r.receiver.outOfOrder : null,
    duplicates: r ? r.receiver.duplicates : null,
    jitterMs: r ? r.receiver.jitterMs : null,
    senderRate: r ? Math.round(r.sender.ratePerSec) : null,
    rcvbufEffective: r ? r.rcvbuf.effective : null,
    causes: r ? (Object.fromEntries(r.attribution.causes.map((c) => [c.cause, c.datagrams])) as Record<UdpCauseId, number>) : null,
    unexplained: r ? r.attribution.unexplained : null,
    packetsPerDatagram: r ? r.fragments.packetsPerDatagram : null,
    modelLossPercent: r?.fragments.model ? r.fragments.model.predictedLossPercent : null,
    ruleLossPercent: r?.fragments.model ? r.fragments.model.measuredLossPercent : null,
    captureComplete: r ? r.capture.complete : null,
    error,
  }));
}

const CAUSE_COLUMNS: UdpCauseId[] = ['send-error', 'before-receiver', 'injected-loss', 'reassembly', 'receive-buffer'];
const COLUMNS = [
  'cell', 'rcvbuf', 'rate', 'size', 'loss', 'workUs', 'family', 'topology', 'count', 'sent', 'received', 'lost', 'lossPercent',
  'outOfOrder', 'duplicates', 'jitterMs', 'senderRate', 'rcvbufEffective', ...CAUSE_COLUMNS, 'unexplained', 'packetsPerDatagram',
  'modelLossPercent', 'ruleLossPercent', 'captureComplete', 'error',
] as const;

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(+v.toPrecision(6)) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(records: SweepRecord[]): string {
  const lines = [COLUMNS.join(',')];
  for (const r of records) {
    const flat: Record<string, unknown> = { ...r, ...(r.causes ?? {}) };
    lines.push(COLUMNS.map((c) => csvField(flat[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export interface SweepJson {
  grid: Record<SweepAxis, string[]>;
  swept: SweepAxis[];
  base: Record<string, unknown>;
  jobs: number;
  files: { csv: string; json: string; svg: string | null; captures: string };
  cells: SweepRecord[];
}

export function toSweepJson(grid: SweepGrid, labels: Record<SweepAxis, string[]>, swept: SweepAxis[], jobs: number, records: SweepRecord[], files: SweepJson['files']): SweepJson {
  const { rcvbuf: _r, rate: _ra, size: _s, loss: _l, workUs: _w, ...base } = grid.base;
  const gridLabels = Object.fromEntries(AXES.map((a) => [a, labels[a]])) as Record<SweepAxis, string[]>;
  return { grid: gridLabels, swept, base, jobs, files, cells: records };
}
