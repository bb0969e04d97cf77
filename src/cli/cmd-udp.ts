/**
 * `wirelab udp --rate 40k --size 2000 --count 100000 [--rcvbuf 256k] [--work-us 20] [--reader
 * inline|queue] [--loss 1%] [--mtu 1500] [--topology loopback|veth|router] [--pace] [--ipv6]
 * [--json] [--out DIR]`: one UDP loss experiment with the user's own numbers, in a fresh namespace.
 * Every value is checked before anything runs (exit 2).
 */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { WirelabError } from '../errors.js';
import { defaultCapturesDir } from '../lab/paths.js';
import { preflight } from '../lab/preflight.js';
import { runUdpInFreshSandbox } from '../udp/engine.js';
import {
  DEFAULT_PARAMS, parseCount, parseMtu, parsePercent, parseRate, parseRcvbuf, parseReader, parseSize, parseTopology, parseWorkUs,
  validateParams, type UdpParams,
} from '../udp/params.js';
import { renderUdpText } from '../udp/report-text.js';
import { parse } from './args.js';
import { newRunId } from './cmd-run.js';
import { out, outJson } from './output.js';

export const UDP_USAGE =
  'wirelab udp [--rate N|max] [--size BYTES] [--count N] [--rcvbuf BYTES] [--work-us US] [--reader inline|queue] [--loss P%] [--mtu N] [--topology loopback|veth|router] [--pace] [--ipv6] [--json] [--out DIR]';

export const UDP_OPTIONS = {
  rate: { type: 'string' },
  size: { type: 'string' },
  count: { type: 'string' },
  rcvbuf: { type: 'string' },
  'work-us': { type: 'string' },
  reader: { type: 'string' },
  loss: { type: 'string' },
  mtu: { type: 'string' },
  topology: { type: 'string' },
  pace: { type: 'boolean' },
  ipv6: { type: 'boolean' },
  json: { type: 'boolean' },
  out: { type: 'string' },
} as const;

/** The flags of one experiment into checked params (throws BAD_USAGE, exit 2). */
export function paramsFromFlags(v: Partial<Record<keyof typeof UDP_OPTIONS, string | boolean | undefined>>): UdpParams {
  const s = (k: keyof typeof UDP_OPTIONS): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const p: UdpParams = { ...DEFAULT_PARAMS };
  if (s('rate') !== undefined) p.rate = parseRate(s('rate')!);
  if (s('size') !== undefined) p.size = parseSize(s('size')!);
  if (s('count') !== undefined) p.count = parseCount(s('count')!);
  if (s('rcvbuf') !== undefined) p.rcvbuf = parseRcvbuf(s('rcvbuf')!);
  if (s('work-us') !== undefined) p.workUs = parseWorkUs(s('work-us')!);
  if (s('reader') !== undefined) p.reader = parseReader(s('reader')!);
  if (s('loss') !== undefined) p.loss = parsePercent(s('loss')!);
  if (s('mtu') !== undefined) p.mtu = parseMtu(s('mtu')!);
  if (s('topology') !== undefined) p.topology = parseTopology(s('topology')!);
  p.pace = v.pace === true;
  p.family = v.ipv6 === true ? 6 : 4;
  if (p.pace && p.rate === 'max') throw new WirelabError('BAD_USAGE', '--pace spaces the sends 1/rate apart: give a --rate too (e.g. --rate 40k --pace)');
  return validateParams(p);
}

export async function udpCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('udp', argv, UDP_OPTIONS, UDP_USAGE);
  if (positionals.length) throw new WirelabError('BAD_USAGE', `wirelab udp: unexpected ${positionals.join(' ')}\nusage: ${UDP_USAGE}`);
  const params = paramsFromFlags(values);
  await preflight({ needTcpdump: true });
  const dir = path.resolve(values.out ?? path.join(defaultCapturesDir(), newRunId()));
  await mkdir(dir, { recursive: true });
  const result = await runUdpInFreshSandbox(params, { dir });
  if (values.json) outJson(result);
  else out(renderUdpText(result));
  return 0;
}
