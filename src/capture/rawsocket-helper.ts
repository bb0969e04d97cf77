/**
 * The raw-socket capture program, run inside a lab namespace (`ip netns exec NS node
 * dist/src/capture/rawsocket-helper.js --snaplen 2048`): raw IPv4 sockets for TCP, UDP and ICMP
 * hand it every inbound datagram with its IP header (reassembled: never fragments); it writes a
 * classic pcap with link type 228 (IPv4) to stdout. Ready: "rawsocket-helper: listening on ..." on
 * stderr once the sockets are open. SIGINT / SIGTERM / stdin closing: it stops and prints
 * tcpdump-like counts ("N packets captured", "N packets dropped by kernel" from /proc/net/raw).
 *
 * It must run as compiled JS (node cannot run TypeScript here): `npm run build` first.
 */
import { readFileSync } from 'node:fs';
import raw, { type Socket } from 'raw-socket';
import { LINKTYPE_IPV4, PCAP_RECORD_HEADER_LEN, pcapGlobalHeader, pcapRecordHeader } from './pcap-writer.js';

const args = process.argv.slice(2);
const argOf = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const snaplen = Math.max(64, Number(argOf('--snaplen', '2048')) || 2048);
const protoNames = argOf('--protos', 'tcp,udp,icmp').split(',');

const PROTO: Record<string, number> = { tcp: raw.Protocol.TCP, udp: raw.Protocol.UDP, icmp: raw.Protocol.ICMP };

// One clock for all records: epoch microseconds at start plus a monotonic offset.
const epochUs0 = Date.now() * 1000;
const hr0 = process.hrtime.bigint();

let captured = 0;
let stopping = false;
const sockets: Socket[] = [];

process.stdout.write(pcapGlobalHeader(LINKTYPE_IPV4, snaplen));

function onMessage(buffer: Buffer): void {
  if (stopping) return;
  const us = epochUs0 + Number((process.hrtime.bigint() - hr0) / 1000n);
  const sec = Math.floor(us / 1e6);
  const caplen = Math.min(buffer.length, snaplen);
  // The socket reuses `buffer` for the next datagram: the record must be a copy.
  const rec = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LEN + caplen);
  const origLen = buffer.length >= 4 ? buffer.readUInt16BE(2) : buffer.length;
  pcapRecordHeader(sec, us - sec * 1e6, caplen, Math.max(origLen, buffer.length), rec, 0);
  buffer.copy(rec, PCAP_RECORD_HEADER_LEN, 0, caplen);
  captured++;
  process.stdout.write(rec);
}

function kernelDrops(): number | null {
  try {
    const lines = readFileSync('/proc/self/net/raw', 'utf8').trim().split('\n').slice(1);
    let sum = 0;
    for (const l of lines) {
      const f = l.trim().split(/\s+/);
      sum += Number(f[f.length - 1]) || 0;
    }
    return sum;
  } catch {
    return null;
  }
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  const drops = kernelDrops();
  for (const s of sockets) {
    try {
      s.close();
    } catch {
      // closed
    }
  }
  process.stderr.write(`${captured} packets captured\n`);
  if (drops !== null) process.stderr.write(`${drops} packets dropped by kernel\n`);
  process.stdout.end(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}

for (const name of protoNames) {
  const protocol = PROTO[name];
  if (protocol === undefined) {
    process.stderr.write(`rawsocket-helper: unknown protocol ${name} (tcp, udp, icmp)\n`);
    process.exit(2);
  }
  try {
    const s = raw.createSocket({ protocol, addressFamily: raw.AddressFamily.IPv4, bufferSize: 65535 });
    s.on('message', onMessage);
    s.on('error', (e: Error) => process.stderr.write(`rawsocket-helper: ${name} socket error: ${e.message}\n`));
    sockets.push(s);
  } catch (e) {
    process.stderr.write(`rawsocket-helper: cannot open a raw ${name} socket: ${(e as Error).message} (needs CAP_NET_RAW)\n`);
    process.exit(1);
  }
}

process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.stdout.on('error', () => process.exit(0));
setImmediate(() => process.stderr.write(`rawsocket-helper: listening on ${protoNames.join(',')} (IPv4, snaplen ${snaplen})\n`));
