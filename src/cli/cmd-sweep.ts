/**
 * `wirelab sweep udp --rcvbuf 8k,64k,1m --rate 10k,100k,max --size 100,1472,4000 --loss 0,1%
 * [--work-us 0,20] [--count N] [--jobs N] [--topology …] [--mtu N] [--reader …] [--pace] [--ipv6]
 * [--json] [--out DIR]`: the UDP experiment over a grid, each cell in a fresh namespace, with a
 * progress bar (stderr), then sweep.csv, sweep.json and sweep.svg in the run's directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { WirelabError } from '../errors.js';
import { defaultCapturesDir } from '../lab/paths.js';
import { preflight } from '../lab/preflight.js';
import { DEFAULT_PARAMS, parseCount, parseMtu, parseReader, parseTopology, type UdpParams } from '../udp/params.js';
import { plotSpec, renderSvg } from '../udp/sweep-plot.js';
import { toCsv, toRecords, toSweepJson } from '../udp/sweep-output.js';
import { cells, parseGrid, runSweep, sweptAxes, type SweepRow } from '../udp/sweep.js';
import { intOption, parse } from './args.js';
import { UDP_OPTIONS } from './cmd-udp.js';
import { newRunId } from './cmd-run.js';
import { note, out, outJson } from './output.js';

const USAGE =
  'wirelab sweep udp [--rcvbuf LIST] [--rate LIST] [--size LIST] [--loss LIST] [--work-us LIST] [--count N] [--jobs N] [--topology loopback|veth|router] [--mtu N] [--reader inline|queue] [--pace] [--ipv6] [--json] [--out DIR]   (LIST: values separated by commas, e.g. --rcvbuf 8k,64k,1m)';

const DEFAULT_JOBS = 2;

function describeRow(row: SweepRow): string {
  const l = row.cell.labels;
  const cellText = `rcvbuf ${l.rcvbuf} rate ${l.rate} size ${l.size} loss ${l.loss} work ${l.workUs}µs`;
  if (!row.result) return `${cellText}: error: ${row.error}`;
  const r = row.result;
  const top = [...r.attribution.causes].sort((a, b) => b.datagrams - a.datagrams)[0]!;
  const cause = r.receiver.lost === 0 ? '' : `, mostly ${top.cause} (${top.datagrams})`;
  return `${cellText}: lost ${r.receiver.lost}/${r.sender.attempted} (${r.receiver.lossText})${cause}, unexplained ${r.attribution.unexplained}`;
}

export async function sweepCommand(argv: string[]): Promise<number> {
  // The experiment's own flags (each may hold a list where the grid sweeps it), and --jobs.
  const { values, positionals } = parse('sweep', argv, { ...UDP_OPTIONS, jobs: { type: 'string' } }, USAGE);
  if (positionals[0] !== 'udp' || positionals.length > 1) {
    throw new WirelabError('BAD_USAGE', `wirelab sweep: say what to sweep: wirelab sweep udp …\nusage: ${USAGE}`);
  }
  const base: UdpParams = {
    ...DEFAULT_PARAMS,
    family: values.ipv6 ? 6 : 4,
    pace: values.pace === true,
    ...(values.count !== undefined ? { count: parseCount(values.count) } : {}),
    ...(values.topology !== undefined ? { topology: parseTopology(values.topology) } : {}),
    ...(values.mtu !== undefined ? { mtu: parseMtu(values.mtu) } : {}),
    ...(values.reader !== undefined ? { reader: parseReader(values.reader) } : {}),
  };
  const parsed = parseGrid({ rcvbuf: values.rcvbuf, rate: values.rate, size: values.size, loss: values.loss, workUs: values['work-us'] }, base);
  const list = cells(parsed); // every cell checked before anything runs
  const jobs = intOption(values.jobs, '--jobs', 1) ?? DEFAULT_JOBS;
  await preflight({ needTcpdump: true });

  const dir = path.resolve(values.out ?? path.join(defaultCapturesDir(), newRunId()));
  await mkdir(dir, { recursive: true });
  const tty = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    { format: 'sweep udp |{bar}| {value}/{total} cells | {percentage}% | ETA {eta_formatted} | {last}', stream: process.stderr, hideCursor: true, etaBuffer: 8, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  if (tty) bar.start(list.length, 0, { last: `${jobs} at a time` });
  let rows: SweepRow[];
  try {
    rows = await runSweep(list, {
      jobs,
      dir,
      onDone: (row, done) => {
        if (tty) bar.update(done, { last: row.result ? `last: ${row.result.receiver.lossText} lost` : 'last: error' });
        else note(`[${done}/${list.length}] ${describeRow(row)}`);
      },
    });
  } finally {
    if (tty) bar.stop();
  }

  const swept = sweptAxes(parsed.grid);
  const records = toRecords(rows);
  const files = { csv: path.join(dir, 'sweep.csv'), json: path.join(dir, 'sweep.json'), svg: path.join(dir, 'sweep.svg') as string | null, captures: dir };
  await writeFile(files.csv, toCsv(records));
  if (records.some((r) => r.lossPercent !== null)) {
    await writeFile(files.svg!, await renderSvg(plotSpec({ records, swept, labels: parsed.labels, base })));
  } else files.svg = null;
  const json = toSweepJson(parsed.grid, parsed.labels, swept, jobs, records, files);
  await writeFile(files.json, `${JSON.stringify(json, null, 2)}\n`);

  if (values.json) outJson(json);
  else {
    for (const row of rows) out(describeRow(row));
    out(`\n${rows.length} cells, ${jobs} at a time (on a 2-core machine parallel cells share the CPU: use --jobs 1 when the loss depends on CPU, as with --rate max or --work-us)`);
    out(`csv: ${path.relative(process.cwd(), files.csv)}\njson: ${path.relative(process.cwd(), files.json)}${files.svg ? `\nplot: ${path.relative(process.cwd(), files.svg)}` : ''}`);
  }
  return rows.some((r) => r.error) ? 1 : 0;
}
