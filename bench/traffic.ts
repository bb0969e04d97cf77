/**
 * Real, varied loopback traffic for traces (bench and the tshark oracle test). Runs inside a lab
 * namespace (lo with MTU 1500), client and server in this one process, and stops by itself.
 *
 *   node dist/bench/traffic.js '{"short":{"clientClose":100,...},"bulk":{...},"udp":{...}}'
 *
 * What it makes, each kind counted in the summary:
 * - short request/response connections closed by the client (FIN first), by the server, with an RST
 *   from the client or from the server (socket.resetAndDestroy());
 * - "greet" connections where the server speaks first and the client only reads (a lost final
 *   handshake ACK then makes the server retransmit its SYN-ACK);
 * - connections to a closed port (RST from the kernel, ECONNREFUSED);
 * - bulk uploads and downloads of a few MB;
 * - UDP bursts with datagrams above the MTU (IP fragments).
 *
 * Protocol with its parent: with `waitGo`, it prints {"event":"ready","ports":{...}} and waits for
 * a line "go" on stdin (so fault rules can name the ports), then runs, then prints
 * {"event":"done", ...summary} and exits 0. Bounded: no new work after `timeLimitMs`, a hard exit
 * `graceMs` later, a per-connection timeout.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface TrafficArgs {
  host?: string; // default 127.0.0.1
  short?: { clientClose?: number; serverClose?: number; clientReset?: number; serverReset?: number; greet?: number; refused?: number };
  concurrency?: number; // parallel connections, default 48
  maxResponse?: number; // response sizes vary 1..maxResponse bytes, default 6000
  bulk?: { uploads?: number; downloads?: number; bytes?: number; concurrency?: number };
  udp?: { datagrams?: number; burst?: number; gapMs?: number; sizes?: number[] };
  timeLimitMs?: number; // default 120000
  graceMs?: number; // default 15000
  connTimeoutMs?: number; // default 20000
  waitGo?: boolean;
}

type ShortKind = 'clientClose' | 'serverClose' | 'clientReset' | 'serverReset' | 'greet' | 'refused';

interface KindCount {
  attempted: number;
  completed: number; // ended the way this kind is meant to end
  errors: Record<string, number>; // error codes seen (ECONNRESET, ECONNREFUSED, TIMEOUT, ...)
}

const MODE: Record<ShortKind, number> = { clientClose: 0x43, serverClose: 0x53, clientReset: 0x52, serverReset: 0x72, greet: 0, refused: 0 };
const REQ_LEN = 64; // request: mode byte + 2-byte response size + padding

function parseArgs(): TrafficArgs {
  const raw = process.argv[2];
  if (!raw) return {};
  try {
    return JSON.parse(raw) as TrafficArgs;
  } catch (e) {
    process.stderr.write(`traffic: the argument must be JSON: ${(e as Error).message}\n`);
    process.exit(2);
  }
}

const args = parseArgs();
const host = args.host ?? '127.0.0.1';
const timeLimitMs = args.timeLimitMs ?? 120_000;
const connTimeoutMs = args.connTimeoutMs ?? 20_000;
const maxResponse = Math.max(1, args.maxResponse ?? 6000);
const started = Date.now();
let stopping = false;

const counts = {} as Record<ShortKind | 'upload' | 'download', KindCount>;
for (const k of ['clientClose', 'serverClose', 'clientReset', 'serverReset', 'greet', 'refused', 'upload', 'download'] as const) {
  counts[k] = { attempted: 0, completed: 0, errors: {} };
}
const udpStats = { sent: 0, sendErrors: 0, received: 0, bytesSent: 0, bytesReceived: 0, fragmentedSent: 0 };
const bulkBytes = { sent: 0, received: 0 };

function countError(k: KindCount, code: string): void {
  k.errors[code] = (k.errors[code] ?? 0) + 1;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, backlog: 1024 }, () => resolve((server.address() as { port: number }).port));
  });
}

/** Request/response server: the request's first byte says how the connection ends. */
function echoServer(): Server {
  return createServer((s) => {
    s.on('error', () => {});
    let got = 0;
    let mode = 0;
    let size = 0;
    s.on('data', (d: Buffer) => {
      if (got === 0) {
        mode = d[0]!;
        size = d.length >= 3 ? d.readUInt16BE(1) : 1;
      }
      const before = got;
      got += d.length;
      if (before < REQ_LEN && got >= REQ_LEN) {
        s.write(Buffer.alloc(size, 0x61));
        if (mode === MODE.serverClose) s.end();
      } else if (before >= REQ_LEN && mode === MODE.serverReset) {
        s.resetAndDestroy(); // the client's "K" after the response: reset instead of closing
      }
    });
  });
}

function greetServer(): Server {
  return createServer((s) => {
    s.on('error', () => {});
    s.end(Buffer.alloc(300, 0x67));
  });
}

function bulkServer(bytes: number): Server {
  return createServer((s) => {
    s.on('error', () => {});
    let first = true;
    s.on('data', (d: Buffer) => {
      if (first && d[0] === 0x44) {
        // "D": a download: send `bytes` and close
        first = false;
        sendBulk(s, bytes);
        return;
      }
      first = false;
      bulkBytes.received += d.length;
    });
  });
}

function sendBulk(s: Socket, bytes: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      bulkBytes.sent += n;
      if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        s.once('drain', pump);
        return;
      }
    }
    s.end();
  };
  pump();
}

/** A port nothing listens on: bind one, close it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Run one connection of `kind`; resolves when its socket is closed (or it timed out). */
function oneConnection(kind: ShortKind | 'upload' | 'download', port: number, i: number, bulk: number): Promise<void> {
  const c = counts[kind];
  c.attempted++;
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let done = false;
    let received = 0;
    const size = 1 + ((i * 7919) % maxResponse);
    const finish = (ok: boolean, code?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) c.completed++;
      else if (code) countError(c, code);
      if (!s.destroyed) s.destroy();
      resolve();
    };
    const timer = setTimeout(() => finish(false, 'TIMEOUT'), kind === 'upload' || kind === 'download' ? connTimeoutMs * 6 : connTimeoutMs);
    s.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'ERROR';
      // The expected ends: a refused connection, a reset from the server.
      finish((kind === 'refused' && code === 'ECONNREFUSED') || (kind === 'serverReset' && code === 'ECONNRESET'), code);
    });
    s.on('close', () => finish(kind !== 'refused' && kind !== 'serverReset', 'CLOSED'));
    s.on('connect', () => {
      switch (kind) {
        case 'upload':
          sendBulk(s, bulk);
          return;
        case 'download':
          s.write('D');
          return;
        case 'greet':
          return; // the server speaks first
        default: {
          const req = Buffer.alloc(REQ_LEN, 0x2e);
          req[0] = MODE[kind as ShortKind];
          req.writeUInt16BE(size, 1);
          s.write(req);
        }
      }
    });
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (kind === 'download') bulkBytes.received += d.length;
      if (kind === 'greet' && received >= 300) s.end();
      if (received !== size || (kind !== 'clientClose' && kind !== 'clientReset' && kind !== 'serverReset')) return;
      if (kind === 'clientClose') s.end();
      else if (kind === 'clientReset') {
        s.resetAndDestroy();
        finish(true);
      } else s.write('K'); // serverReset: the server resets when it reads this
    });
  });
}

/** A pool of `concurrency` workers over `jobs`. */
async function pool<T>(jobs: T[], concurrency: number, run: (job: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!stopping && next < jobs.length) {
      const i = next++;
      await run(jobs[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, worker));
}

/** The short connections, interleaved so every kind is spread over the run. */
function shortJobs(): ShortKind[] {
  const want = args.short ?? {};
  const left: Record<ShortKind, number> = {
    clientClose: want.clientClose ?? 0,
    serverClose: want.serverClose ?? 0,
    clientReset: want.clientReset ?? 0,
    serverReset: want.serverReset ?? 0,
    greet: want.greet ?? 0,
    refused: want.refused ?? 0,
  };
  const total = Object.values(left).reduce((a, b) => a + b, 0);
  const jobs: ShortKind[] = [];
  const kinds = Object.keys(left) as ShortKind[];
  // Deterministic spread: at each step pick the kind that is furthest behind its share.
  const done: Record<string, number> = {};
  for (let n = 0; n < total; n++) {
    let best: ShortKind | null = null;
    let bestLag = -Infinity;
    for (const k of kinds) {
      const want = left[k];
      if ((done[k] ?? 0) >= want) continue;
      const lag = ((n + 1) * want) / total - (done[k] ?? 0);
      if (lag > bestLag) {
        bestLag = lag;
        best = k;
      }
    }
    done[best!] = (done[best!] ?? 0) + 1;
    jobs.push(best!);
  }
  return jobs;
}

async function udpTraffic(port: number, sender: UdpSocket): Promise<void> {
  const u = args.udp ?? {};
  const total = u.datagrams ?? 0;
  const burst = Math.max(1, u.burst ?? 20);
  const gapMs = u.gapMs ?? 5;
  const sizes = u.sizes?.length ? u.sizes : [100, 1400, 3000, 8000];
  const pad = Buffer.alloc(Math.max(...sizes), 0x75);
  for (let n = 0; n < total && !stopping; ) {
    const sends: Promise<void>[] = [];
    for (let b = 0; b < burst && n < total; b++, n++) {
      const size = sizes[n % sizes.length]!;
      if (size > 1472) udpStats.fragmentedSent++;
      sends.push(
        new Promise((resolve) =>
          sender.send(pad.subarray(0, size), port, host, (err) => {
            if (err) udpStats.sendErrors++;
            else {
              udpStats.sent++;
              udpStats.bytesSent += size;
            }
            resolve();
          }),
        ),
      );
    }
    await Promise.all(sends);
    await new Promise((r) => setTimeout(r, gapMs));
  }
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      if (line.trim() === 'go') {
        rl.close();
        resolve();
      }
    });
    rl.on('close', resolve);
  });
}

function emit(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event, t: Date.now() / 1000, ...fields })}\n`);
}

async function main(): Promise<void> {
  const bulk = args.bulk ?? {};
  const bulkSize = bulk.bytes ?? 4 * 1024 * 1024;
  const servers = { echo: echoServer(), greet: greetServer(), bulk: bulkServer(bulkSize) };
  const ports = {
    echo: await listen(servers.echo),
    greet: await listen(servers.greet),
    bulk: await listen(servers.bulk),
    closed: await closedPort(),
    udp: 0,
  };
  const receiver = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  receiver.on('message', (m) => {
    udpStats.received++;
    udpStats.bytesReceived += m.length;
  });
  await new Promise<void>((r) => receiver.bind(0, host, () => r()));
  ports.udp = receiver.address().port;
  const sender = createSocket('udp4');
  sender.on('error', () => {});

  if (args.waitGo) {
    emit('ready', { ports });
    await waitForGo();
  }
  const t0 = Date.now();
  const hard = setTimeout(() => finish(true), timeLimitMs + (args.graceMs ?? 15_000));
  const soft = setTimeout(() => (stopping = true), timeLimitMs);

  const portOf = (k: ShortKind): number => (k === 'greet' ? ports.greet : k === 'refused' ? ports.closed : ports.echo);
  const bulkJobs: ('upload' | 'download')[] = [];
  for (let i = 0; i < Math.max(bulk.uploads ?? 0, bulk.downloads ?? 0); i++) {
    if (i < (bulk.uploads ?? 0)) bulkJobs.push('upload');
    if (i < (bulk.downloads ?? 0)) bulkJobs.push('download');
  }
  await Promise.all([
    pool(shortJobs(), args.concurrency ?? 48, (k, i) => oneConnection(k, portOf(k), i, 0)),
    pool(bulkJobs, bulk.concurrency ?? 2, (k, i) => oneConnection(k, ports.bulk, i, bulkSize)),
    udpTraffic(ports.udp, sender),
  ]);
  // Let the last datagrams and FINs land before the sockets close.
  await new Promise((r) => setTimeout(r, 200));
  clearTimeout(soft);
  clearTimeout(hard);
  finish(Date.now() - started > timeLimitMs);

  function finish(timedOut: boolean): void {
    emit('done', {
      ports,
      durationMs: Date.now() - t0,
      timedOut,
      tcp: counts,
      bulkBytes,
      udp: udpStats,
    });
    process.exit(0);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`traffic: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
