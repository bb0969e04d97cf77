/**
 * `wirelab peer server|client`: one TCP connection between two containers (compose.yaml), each
 * capturing its own side, then one report that merges both captures. Each runs in its container's
 * own network namespace (never the host's). The two talk on a control port (PORT+1), outside the
 * captures' filter: the server says "ready" once it captures and listens, and "done" once its
 * capture holds the final ACK and is flushed; the client then merges client.pcap and server.pcap
 * from the captures folder both containers mount.
 */
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startCapture } from '../capture/live.js';
import type { LiveCapture } from '../capture/live-types.js';
import { WirelabError } from '../errors.js';
import { defaultCapturesDir } from '../lab/paths.js';
import { LabProgram } from '../lab/program.js';
import { readSockets } from '../observe/index.js';
import { notHostNetns } from '../sandbox/container-mode.js';
import { checkPrivileges, requireTool } from '../sandbox/index.js';
import { newSandboxId } from '../sandbox/namespaces.js';
import { createOwnNetnsSandbox } from '../sandbox/own-netns.js';
import type { Sandbox } from '../sandbox/types.js';
import { renderTwoEnds } from '../report/two-ends-text.js';
import { intOption, parse } from './args.js';
import { mergeCaptures, twoEndsJson } from './cmd-merge.js';
import { adoptParentOwner } from './ownership.js';
import { note, out, outJson } from './output.js';

const USAGE = `wirelab peer server [--port N] [--out DIR] [--iface IF] [--timeout S]
wirelab peer client HOST [--port N] [--bytes N] [--out DIR] [--iface IF] [--timeout S] [--json]`;

interface Common {
  port: number;
  dir: string;
  iface: string;
  timeoutMs: number;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new WirelabError('LAB_TIMEOUT', `${what} did not happen within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** The next JSON line on the control connection with this event. */
function nextLine(lines: AsyncIterator<string>, event: string): Promise<Record<string, unknown>> {
  return (async () => {
    for (;;) {
      const r = await lines.next();
      if (r.done) throw new WirelabError('PROGRAM_FAILED', `the other container closed the control connection before "${event}"`);
      const msg = JSON.parse(r.value) as Record<string, unknown>;
      if (msg.event === event) return msg;
    }
  })();
}

async function ownSandbox(role: string): Promise<Sandbox> {
  checkPrivileges({ needRaw: true });
  requireTool('tcpdump');
  const own = notHostNetns();
  if (!own.ok) {
    throw new WirelabError('NETNS_FAILED', `wirelab peer runs only in a container's own network namespace (docker compose up, see compose.yaml), never in the host's: ${own.why}`);
  }
  return createOwnNetnsSandbox(newSandboxId(), { kind: 'loopback' }, { label: `peer ${role}` });
}

async function serve(o: Common): Promise<number> {
  const sb = await ownSandbox('server');
  let cap: LiveCapture | null = null;
  const control = net.createServer();
  try {
    cap = await startCapture({ sandbox: sb, role: 'server', iface: o.iface, file: path.join(o.dir, 'server.pcap'), backend: 'tcpdump', filter: `tcp port ${o.port}` });
    const prog = new LabProgram(sb, 'server', 'tcp-peer', 'server', { mode: 'listen', host: '0.0.0.0', port: o.port });
    await prog.next('listening', 5000);
    await new Promise<void>((resolve, reject) => control.once('error', reject).listen(o.port + 1, '0.0.0.0', resolve));
    note(`wirelab peer server: capturing on ${o.iface}, listening on port ${o.port} (control ${o.port + 1})`);
    const peer = await within(new Promise<net.Socket>((r) => control.once('connection', r)), o.timeoutMs, 'the client container connecting');
    peer.on('error', () => {});
    peer.write(`${JSON.stringify({ event: 'ready', port: o.port })}\n`);
    await prog.next('accepted', o.timeoutMs);
    await prog.next('end', o.timeoutMs); // the client's FIN
    prog.send({ do: 'end' });
    await prog.next('closed', o.timeoutMs);
    // The final ACK has arrived when the kernel drops the LAST_ACK socket: then the capture holds it.
    const deadline = Date.now() + 5000;
    while ((await readSockets(process.pid)).some((s) => s.state === 'LAST_ACK' && s.local.endsWith(`:${o.port}`)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const stats = await cap.stop();
    cap = null;
    await prog.stop(200);
    peer.end(`${JSON.stringify({ event: 'done', file: 'server.pcap', packets: stats.captured })}\n`);
    out(`server side: ${path.join(o.dir, 'server.pcap')} (${stats.captured} packets); the client container prints the merged report`);
    return 0;
  } finally {
    control.close();
    if (cap) await cap.stop().catch(() => null);
    await sb.destroy();
    await adoptParentOwner(o.dir);
  }
}

/** Connect to the server's control port, retrying while it is not listening yet (compose starts both at once). */
async function controlConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host, port }, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (!['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) || Date.now() > deadline) {
        throw new WirelabError('PROGRAM_FAILED', `cannot reach the server container's control port ${host}:${port} (${code}): is \`wirelab peer server\` running there?`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function connect(host: string, o: Common & { bytes: number; json: boolean }): Promise<number> {
  const sb = await ownSandbox('client');
  let cap: LiveCapture | null = null;
  let control: net.Socket | null = null;
  try {
    control = await controlConnect(host, o.port + 1, o.timeoutMs);
    control.on('error', () => {});
    const lines = createInterface({ input: control })[Symbol.asyncIterator]();
    await within(nextLine(lines, 'ready'), o.timeoutMs, 'the server container getting ready');
    const addr = (await lookup(host, { family: 4 })).address;
    const file = path.join(o.dir, 'client.pcap');
    cap = await startCapture({ sandbox: sb, role: 'client', iface: o.iface, file, backend: 'tcpdump', filter: `tcp port ${o.port} and host ${addr}` });
    const prog = new LabProgram(sb, 'client', 'tcp-peer', 'client', { mode: 'connect', host: addr, port: o.port });
    await prog.next('connected', o.timeoutMs);
    prog.send({ do: 'write', bytes: o.bytes });
    await prog.next('written', o.timeoutMs);
    prog.send({ do: 'end' });
    await prog.next('end', o.timeoutMs); // the server's FIN
    await prog.next('closed', o.timeoutMs);
    await within(nextLine(lines, 'done'), o.timeoutMs, 'the server container finishing its capture');
    const stats = await cap.stop();
    cap = null;
    await prog.stop(200);
    const serverFile = path.join(o.dir, 'server.pcap');
    if (!existsSync(serverFile)) {
      throw new WirelabError('FILE_NOT_FOUND', `the server container's capture is not in ${o.dir}: mount the same captures folder into both containers (compose.yaml does)`);
    }
    const merged = await mergeCaptures(file, serverFile);
    await writeFile(path.join(o.dir, 'two-ends.json'), `${JSON.stringify(twoEndsJson(merged), null, 2)}\n`);
    if (o.json) outJson(twoEndsJson(merged));
    else out(`${renderTwoEnds(merged)}\n\nclient side: ${file} (${stats.captured} packets); merged report: ${path.join(o.dir, 'two-ends.json')}`);
    return merged.connections.length === 1 ? 0 : 1;
  } finally {
    control?.destroy();
    if (cap) await cap.stop().catch(() => null);
    await sb.destroy();
    await adoptParentOwner(o.dir);
  }
}

export async function peerCommand(argv: string[]): Promise<number> {
  const [role, ...rest] = argv;
  const { values, positionals } = parse('peer', rest, {
    port: { type: 'string' },
    bytes: { type: 'string' },
    out: { type: 'string' },
    iface: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  const port = intOption(values.port, '--port', 1) ?? 7000;
  if (port > 65534) throw new WirelabError('BAD_USAGE', `--port ${port}: at most 65534 (PORT+1 is the control port)`);
  const dir = path.resolve(values.out ?? path.join(defaultCapturesDir(), 'two-hosts'));
  await mkdir(dir, { recursive: true });
  const common: Common = { port, dir, iface: values.iface ?? 'eth0', timeoutMs: (intOption(values.timeout, '--timeout', 1) ?? 60) * 1000 };
  if (role === 'server' && positionals.length === 0) return serve(common);
  if (role === 'client' && positionals.length === 1) {
    return connect(positionals[0]!, { ...common, bytes: intOption(values.bytes, '--bytes', 1) ?? 1000, json: !!values.json });
  }
  throw new WirelabError('BAD_USAGE', `usage:\n${USAGE}`);
}
