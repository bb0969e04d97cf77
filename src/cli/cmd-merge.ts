/** `wirelab merge CLIENT.pcap SERVER.pcap [--json]`: one connection seen from both ends, with one-way delays. No root needed. */
import { inspectStream } from '../analyze/pipeline.js';
import { twoEnds, type TwoEnds } from '../analyze/two-ends.js';
import { openCaptureFile } from '../capture/read.js';
import { WirelabError } from '../errors.js';
import { renderTwoEnds } from '../report/two-ends-text.js';
import { parse } from './args.js';
import { out, outJson } from './output.js';

const USAGE = 'wirelab merge CLIENT.pcap SERVER.pcap [--json]   (the client host\'s capture first)';

async function analyze(file: string): Promise<import('../analyze/model.js').Analysis> {
  const a = await inspectStream(openCaptureFile(file), { file, keepSegments: true });
  const fatal = a.faults.find((f) => f.fatal);
  if (a.packets === 0 && fatal) throw new WirelabError('BAD_PCAP', `${file}: ${fatal.message}`, { file });
  return a;
}

/** Analyze both captures and pair their connections. */
export async function mergeCaptures(clientFile: string, serverFile: string): Promise<TwoEnds> {
  const [c, s] = await Promise.all([analyze(clientFile), analyze(serverFile)]);
  return twoEnds(c, s);
}

/** The JSON form: state transitions as state names, everything else as computed. */
export function twoEndsJson(t: TwoEnds): unknown {
  const names = (x: { from: string; to: string }[]): string[] => (x.length ? [x[0]!.from, ...x.map((s) => s.to)] : ['CLOSED']);
  return {
    ...t,
    connections: t.connections.map((c) => ({ ...c, states: { client: names(c.states.client), server: names(c.states.server) } })),
  };
}

export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('merge', argv, { json: { type: 'boolean' } }, USAGE);
  if (positionals.length !== 2) throw new WirelabError('BAD_USAGE', `wirelab merge takes two captures, got ${positionals.length}\nusage: ${USAGE}`);
  const t = await mergeCaptures(positionals[0]!, positionals[1]!);
  if (values.json) outJson(twoEndsJson(t));
  else out(renderTwoEnds(t));
  return t.connections.length ? 0 : 1;
}
