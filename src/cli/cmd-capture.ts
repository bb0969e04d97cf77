/**
 * `wirelab capture [--topology loopback|veth] [--ipv6] [--json] [--server CMD] [--out DIR] -- COMMAND…`
 * Run the user's own program inside a fresh lab namespace while tcpdump records it, then annotate
 * what it did. The program's own output goes to stderr; stdout carries the annotation.
 */
import { mkdir } from 'node:fs/promises';
import { adoptParentOwner } from './ownership.js';
import path from 'node:path';
import { inspectStream } from '../analyze/pipeline.js';
import { startCapture } from '../capture/live.js';
import type { LiveCapture } from '../capture/live-types.js';
import { WirelabError } from '../errors.js';
import { defaultCapturesDir, repoRoot } from '../lab/paths.js';
import { preflight } from '../lab/preflight.js';
import { readSockets } from '../observe/index.js';
import { toInspectJson } from '../report/json.js';
import { renderSegmentLine, renderText } from '../report/text.js';
import { createSandbox } from '../sandbox/index.js';
import type { Sandbox, TopologySpec } from '../sandbox/types.js';
import { intOption, parse } from './args.js';
import { newRunId } from './cmd-run.js';
import { note, out, outJson } from './output.js';

const USAGE = 'wirelab capture [--topology loopback|veth] [--mtu N] [--ipv6] [--json] [--live] [--server CMD] [--out DIR] -- COMMAND…';

function waitExit(child: import('node:child_process').ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
}

export async function captureCommand(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) {
    throw new WirelabError('BAD_USAGE', `wirelab capture: put the command to run after --, e.g. wirelab capture -- node my-client.js\nusage: ${USAGE}`);
  }
  const command = argv.slice(dash + 1);
  const { values, positionals } = parse('capture', argv.slice(0, dash), {
    topology: { type: 'string' },
    mtu: { type: 'string' },
    ipv6: { type: 'boolean' },
    json: { type: 'boolean' },
    live: { type: 'boolean' },
    server: { type: 'string' },
    out: { type: 'string' },
  }, USAGE);
  if (positionals.length) throw new WirelabError('BAD_USAGE', `wirelab capture: unexpected ${positionals.join(' ')} before --\nusage: ${USAGE}`);
  const kind = values.topology ?? 'loopback';
  if (kind !== 'loopback' && kind !== 'veth') throw new WirelabError('BAD_USAGE', `--topology ${kind}: use loopback (one host) or veth (client and server hosts)`);
  if (kind === 'loopback' && values.server) note('wirelab capture: on loopback the client and server share one namespace; --server runs there too');
  const mtu = intOption(values.mtu, '--mtu', 68);
  const topology: TopologySpec = mtu ? { kind, mtu } : { kind };
  await preflight({ needTcpdump: false });

  const dir = path.resolve(values.out ?? path.join(defaultCapturesDir(), newRunId()));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'capture.pcap');
  let sb: Sandbox | null = null;
  let capture: LiveCapture | null = null;
  try {
    sb = await createSandbox(topology, { label: 'capture' });
    const family = values.ipv6 ? 6 : 4;
    const addr = (r: 'client' | 'server'): string => (family === 6 ? sb!.host(r).addr6 : sb!.host(r).addr4);
    capture = await startCapture({ sandbox: sb, role: 'server', file, backend: 'auto' });
    const analysisP = inspectStream(capture.stream, {
      file: path.relative(repoRoot, file),
      keepSegments: true,
      ...(values.live ? { onUpdate: (c, s) => { if (s) out(`#${c.id} ${renderSegmentLine(s)}`); } } : {}),
    });
    const env = { ...process.env, WIRELAB_SERVER_ADDR: addr('server'), WIRELAB_CLIENT_ADDR: addr('client') };
    let server: import('node:child_process').ChildProcess | null = null;
    if (values.server) {
      server = sb.spawn('server', ['sh', '-c', values.server], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      server.stdout!.pipe(process.stderr);
      server.stderr!.pipe(process.stderr);
      // Ready when something listens in the server's namespace (no fixed sleep), at most 5 s.
      const pid = sb.nsPid('server');
      const deadline = Date.now() + 5000;
      while (!(await readSockets(pid)).some((s) => s.state === 'LISTEN' || s.proto.startsWith('udp'))) {
        if (server.exitCode !== null || Date.now() > deadline) {
          throw new WirelabError('BAD_USAGE', `--server "${values.server}" ${server.exitCode !== null ? `exited (code ${server.exitCode})` : 'did not listen within 5 s'}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const child = sb.spawn('client', command, { env, stdio: ['inherit', 'pipe', 'pipe'] });
    child.stdout!.pipe(process.stderr);
    child.stderr!.pipe(process.stderr);
    const status = await waitExit(child);
    server?.kill('SIGTERM');
    if (server) await waitExit(server);
    await new Promise((r) => setTimeout(r, 100)); // the last packets reach tcpdump
    const stats = await capture.stop();
    capture = null;
    const analysis = await analysisP;
    if (values.json) outJson(toInspectJson(analysis));
    else {
      out(renderText(analysis, {}));
      out(`capture: ${path.relative(process.cwd(), file)} (${stats.backend}, ${stats.captured} packets${stats.complete ? '' : ', INCOMPLETE: the kernel dropped packets'})`);
      if (stats.limits.length) out(`capture limits: ${stats.limits.join('; ')}`);
    }
    if (status.code !== 0) {
      note(`wirelab capture: ${command.join(' ')} ${status.code === 127 ? 'could not be started (is it installed and on PATH?)' : `exited with ${status.signal ?? `code ${status.code}`}`}`);
      return status.code === 127 ? 2 : 1;
    }
    return 0;
  } finally {
    if (capture) await capture.stop().catch(() => null);
    await sb?.destroy();
    await adoptParentOwner(dir);
  }
}
