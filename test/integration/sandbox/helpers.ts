/** Small helpers the sandbox/capture/observe integration tests share: real programs in namespaces. */
import type { ChildProcess } from 'node:child_process';
import type { HostRole, Sandbox } from '../../../src/sandbox/types.js';

/** Wait for a line matching `re` on the child's stdout (the programs below print READY port). */
export function waitLine(cp: ChildProcess, re: RegExp, timeoutMs = 5000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${re} (stdout: ${buf}, stderr: ${err})`)), timeoutMs);
    cp.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    cp.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
    cp.once('exit', (code) => {
      clearTimeout(t);
      const m = re.exec(buf);
      if (m) resolve(m);
      else reject(new Error(`exited ${code} before ${re} (stdout: ${buf}, stderr: ${err})`));
    });
  });
}

export function waitExit(cp: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (cp.exitCode !== null) resolve(cp.exitCode);
    else cp.once('exit', (code) => resolve(code ?? -1));
  });
}

/** A TCP echo server: prints "READY <port>", echoes, closes when the peer closes. */
export const TCP_SERVER = `
const net = require('net');
const host = process.argv[1];
const s = net.createServer((c) => { c.on('data', (d) => c.write(d)); c.on('end', () => c.end()); });
s.listen({ host, port: Number(process.argv[2] || 0) }, () => console.log('READY ' + s.address().port));
`;

/** A TCP client: connects, sends "hello", prints "ECHO <text>", closes first. */
export const TCP_CLIENT = `
const net = require('net');
const c = net.connect({ host: process.argv[1], port: Number(process.argv[2]) }, () => c.write('hello'));
c.on('data', (d) => { console.log('ECHO ' + d.toString()); c.end(); });
c.on('error', (e) => { console.log('ERROR ' + e.code); process.exit(1); });
c.on('close', () => setTimeout(() => process.exit(0), 50));
`;

/** Run a TCP echo exchange server <- client across the sandbox; returns the client's output. */
export async function tcpEcho(sb: Sandbox, family: 4 | 6, port = 0, client: HostRole = 'client', server: HostRole = 'server'): Promise<{ out: string; port: number }> {
  const h = sb.host(server);
  const addr = family === 4 ? h.addr4 : h.addr6;
  const srv = sb.spawn(server, ['node', '-e', TCP_SERVER, addr, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const m = await waitLine(srv, /READY (\d+)/);
    const p = Number(m[1]);
    const cl = sb.spawn(client, ['node', '-e', TCP_CLIENT, addr, String(p)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cl.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await waitExit(cl);
    return { out, port: p };
  } finally {
    srv.kill('SIGKILL');
  }
}

/** A UDP receiver: prints "READY <port>", then "GOT <seq>" per datagram (the first 4 bytes). */
export const UDP_RECEIVER = `
const dgram = require('dgram');
const fam = process.argv[1].includes(':') ? 'udp6' : 'udp4';
const s = dgram.createSocket(fam);
s.on('message', (m) => console.log('GOT ' + m.readUInt32BE(0)));
s.bind(0, process.argv[1], () => console.log('READY ' + s.address().port));
`;

/** A UDP sender: N datagrams of SIZE bytes, numbered, 2 ms apart; prints "SENT N". */
export const UDP_SENDER = `
const dgram = require('dgram');
const [host, port, n, size] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
let i = 0;
const next = () => {
  if (i === Number(n)) { console.log('SENT ' + i); s.close(); return; }
  const b = Buffer.alloc(Number(size)); b.writeUInt32BE(i + 1, 0); i++;
  s.send(b, Number(port), host, (e) => { if (e) { console.log('ERROR ' + e.code); process.exit(1); } setTimeout(next, 2); });
};
next();
`;

/** Send `n` numbered datagrams client -> server; returns the sequence numbers that arrived. */
export async function udpExchange(sb: Sandbox, family: 4 | 6, n: number, size = 100, port?: (p: number) => Promise<void>): Promise<number[]> {
  const h = sb.host('server');
  const addr = family === 4 ? h.addr4 : h.addr6;
  const rcv = sb.spawn('server', ['node', '-e', UDP_RECEIVER, addr], { stdio: ['ignore', 'pipe', 'pipe'] });
  const got: number[] = [];
  let buf = '';
  rcv.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = /^GOT (\d+)/.exec(line);
      if (m) got.push(Number(m[1]));
    }
  });
  try {
    const p = Number((await waitLine(rcv, /READY (\d+)/))[1]);
    if (port) await port(p);
    const snd = sb.spawn('client', ['node', '-e', UDP_SENDER, addr, String(p), String(n), String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitLine(snd, /SENT \d+/, 20_000);
    await waitExit(snd);
    await new Promise((r) => setTimeout(r, 100)); // let the last datagrams arrive
    return got;
  } finally {
    rcv.kill('SIGKILL');
  }
}
