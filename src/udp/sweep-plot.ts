/**
 * The sweep's plot: measured loss against the first swept parameter, one line per value of the
 * second (colour), small multiples for the third (columns) and the rest (rows), and the model
 * 1-(1-P)^k as a dashed line wherever a loss was injected. Drawn with Vega-Lite, rendered to SVG
 * by Vega in Node (no browser, no canvas: text is measured by Vega's estimate).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { UdpParams } from './params.js';
import type { SweepRecord } from './sweep-output.js';
import type { SweepAxis } from './sweep.js';

const TITLE: Record<SweepAxis, string> = {
  rcvbuf: 'SO_RCVBUF asked for (bytes)',
  rate: 'send rate (datagrams/s)',
  size: 'datagram size (bytes)',
  loss: 'injected loss per packet',
  workUs: 'receiver work per datagram (µs)',
};

export interface PlotInput {
  records: SweepRecord[];
  swept: SweepAxis[];
  labels: Record<SweepAxis, string[]>;
  base: UdpParams;
}

export function plotSpec(p: PlotInput): TopLevelSpec {
  const x: SweepAxis = p.swept[0] ?? 'rate';
  const color = p.swept[1];
  const column = p.swept[2];
  const rest = p.swept.slice(3);
  const values = p.records
    .filter((r) => r.lossPercent !== null)
    .map((r) => ({
      ...Object.fromEntries(p.swept.map((a) => [a, r[a]])),
      ...(rest.length ? { group: rest.map((a) => `${a} ${r[a]}`).join(', ') } : {}),
      measured: r.lossPercent,
      model: r.modelLossPercent,
    }));
  const b = p.base;
  const anyModel = values.some((v) => v.model !== null);
  const dashLegend = anyModel ? { symbolType: 'stroke', labelExpr: "datum.label === 'model' ? 'model 1-(1-P)^k' : 'measured'" } : null;
  const layer = {
    transform: [{ fold: ['measured', 'model'], as: ['series', 'lossPercent'] }, { filter: 'datum.lossPercent !== null' }],
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: x, type: 'ordinal', sort: p.labels[x], title: TITLE[x] },
      y: { field: 'lossPercent', type: 'quantitative', title: 'datagrams lost (%)' },
      strokeDash: { field: 'series', type: 'nominal', title: 'loss', sort: ['measured', 'model'], legend: dashLegend },
      ...(color ? { color: { field: color, type: 'nominal', sort: p.labels[color], title: TITLE[color], scale: { scheme: 'category10' } } } : {}),
      tooltip: [{ field: 'lossPercent', type: 'quantitative', format: '.2g' }],
    },
  };
  const header = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `UDP loss against ${TITLE[x]}`,
      subtitle: `${b.count} datagrams per cell, IPv${b.family}, ${b.topology}${b.pace ? ', paced' : ''}`,
    },
    data: { values },
    config: { font: 'sans-serif', view: { stroke: '#ddd' }, legend: { titleLimit: 320, labelLimit: 320 } },
  };
  if (!column && !rest.length) return { ...header, width: 420, height: 260, ...layer } as TopLevelSpec;
  return {
    ...header,
    facet: {
      ...(column ? { column: { field: column, type: 'ordinal', sort: p.labels[column], title: TITLE[column] } } : {}),
      ...(rest.length ? { row: { field: 'group', type: 'nominal', title: rest.map((a) => TITLE[a]).join(', ') } } : {}),
    },
    spec: { width: 220, height: 160, ...layer },
  } as TopLevelSpec;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded here, not at startup: vega is large, and only a finished sweep draws.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
