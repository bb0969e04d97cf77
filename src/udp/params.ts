/**
 * The numbers of one UDP experiment, as a user types them ("40k", "256k", "1%", "max") and as the
 * engine takes them (plain numbers). Every value is checked here, before anything runs: a bad one
 * is a BAD_USAGE error (exit 2) that says what came and what is accepted.
 */
import { WirelabError } from '../errors.js';
import { HEADER_BYTES } from './payload.js';

export type UdpTopology = 'loopback' | 'veth' | 'router';
export type UdpReader = 'inline' | 'queue';

export interface UdpParams {
  family: 4 | 6;
  /** Datagrams per second, or 'max': as fast as the sender can. */
  rate: number | 'max';
  /** UDP payload bytes per datagram (16..65507: the sequence number and send time ride in the first 16). */
  size: number;
  count: number;
  /** Bytes asked for with SO_RCVBUF (the kernel doubles it, clamped at rmem_max); null: the kernel's default. */
  rcvbuf: number | null;
  /** Microseconds of work per datagram at the receiver. */
  workUs: number;
  /** 'inline': the receiver works between reads; 'queue': it reads into a queue, a worker thread works. */
  reader: UdpReader;
  /** Random loss injected at the receiver's input, per packet (so per IP fragment), in percent. */
  loss: number;
  /** MTU of the path (lo or the veths); null: the topology's default (65536 on lo, 1500 on veths). */
  mtu: number | null;
  topology: UdpTopology;
  /** Evenly spaced sends (1/rate apart) instead of catching up in bursts every millisecond. */
  pace: boolean;
}

/** 65535 (the IPv4 total length field) - 20 (IPv4 header) - 8 (UDP header). */
export const MAX_UDP_PAYLOAD = 65507;
export const MAX_COUNT = 10_000_000;

export const DEFAULT_PARAMS: UdpParams = {
  family: 4,
  rate: 'max',
  size: 1472,
  count: 10_000,
  rcvbuf: null,
  workUs: 0,
  reader: 'inline',
  loss: 0,
  mtu: null,
  topology: 'loopback',
  pace: false,
};

function bad(flag: string, value: string, why: string): WirelabError {
  return new WirelabError('BAD_USAGE', `${flag} ${JSON.stringify(value)}: ${why}`, { flag, value });
}

const SUFFIX = /^([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmg]?)$/i;

function scaled(text: string, unit: number): number | null {
  const m = SUFFIX.exec(text.trim());
  if (!m) return null;
  const mult = { '': 1, k: unit, m: unit * unit, g: unit * unit * unit }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

/** "40k" -> 40000 datagrams/s (k = 1000), "1.5m", "max". */
export function parseRate(text: string, flag = '--rate'): number | 'max' {
  if (text.trim().toLowerCase() === 'max') return 'max';
  const n = scaled(text, 1000);
  if (n === null || !Number.isFinite(n) || n <= 0) {
    throw bad(flag, text, 'expected datagrams per second > 0, e.g. 40000, 40k, 1.5m, or max (as fast as the sender can)');
  }
  if (n > 10_000_000) throw bad(flag, text, 'more than 10M datagrams/s is beyond any sender here; use max');
  return n;
}

/** "256k" -> 262144 bytes (k = 1024, as iperf3 and sysctl users mean it), "1m", "4096". */
export function parseBytes(text: string, flag: string, min: number, max: number): number {
  const n = scaled(text, 1024);
  if (n === null || !Number.isInteger(n)) throw bad(flag, text, 'expected a whole number of bytes, e.g. 4096, 8k, 256k, 1m (k = 1024)');
  if (n < min || n > max) throw bad(flag, text, `must be between ${min} and ${max} bytes`);
  return n;
}

export function parseSize(text: string, flag = '--size'): number {
  const n = scaled(text, 1024);
  if (n === null || !Number.isInteger(n)) throw bad(flag, text, 'expected the UDP payload in bytes, e.g. 100, 1472, 2000, 64k');
  return checkSize(n, flag, text);
}

function checkSize(n: number, flag: string, text: string): number {
  if (n > MAX_UDP_PAYLOAD) {
    throw bad(
      flag,
      text,
      `a UDP datagram carries at most ${MAX_UDP_PAYLOAD} bytes of payload (65535, the largest IPv4 packet, minus 20 for the IP header and 8 for the UDP header); the kernel refuses ${MAX_UDP_PAYLOAD + 1} and more with EMSGSIZE ("message too long") before anything is sent`,
    );
  }
  if (n < HEADER_BYTES) throw bad(flag, text, `must be at least ${HEADER_BYTES} bytes: each datagram carries its sequence number and send time in its first ${HEADER_BYTES} bytes`);
  return n;
}

/** "1%", "0.5", "0" -> percent. */
export function parsePercent(text: string, flag = '--loss'): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*%?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n)) throw bad(flag, text, 'expected a percentage, e.g. 0, 1%, 0.5%');
  if (n > 100) throw bad(flag, text, 'a loss above 100% means nothing: use 0..100%');
  if (n > 0 && n < 0.01) throw bad(flag, text, 'the smallest loss the rule can draw is 0.01%');
  return n;
}

export function parseCount(text: string, flag = '--count'): number {
  const n = scaled(text, 1000);
  if (n === null || !Number.isInteger(n) || n < 1 || n > MAX_COUNT) throw bad(flag, text, `expected a whole number of datagrams between 1 and ${MAX_COUNT}, e.g. 10000 or 100k`);
  return n;
}

export function parseWorkUs(text: string, flag = '--work-us'): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1_000_000) throw bad(flag, text, 'expected microseconds of work per datagram, 0..1000000');
  return n;
}

export function parseMtu(text: string, flag = '--mtu'): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1280 || n > 65536) throw bad(flag, text, 'expected an MTU between 1280 (the IPv6 minimum) and 65536');
  return n;
}

export function parseTopology(text: string, flag = '--topology'): UdpTopology {
  if (text === 'loopback' || text === 'veth' || text === 'router') return text;
  throw bad(flag, text, 'expected loopback (one host), veth (two hosts on a veth pair) or router (client, router, server)');
}

export function parseReader(text: string, flag = '--reader'): UdpReader {
  if (text === 'inline' || text === 'queue') return text;
  throw bad(flag, text, 'expected inline (work between reads) or queue (read into a queue, work in a worker thread)');
}

/** SO_RCVBUF request: 1 byte .. 1 GiB (the kernel clamps it anyway). */
export function parseRcvbuf(text: string, flag = '--rcvbuf'): number | null {
  if (text === 'default') return null;
  return parseBytes(text, flag, 1, 1 << 30);
}

/** Check a whole parameter set built in code (a lab or a sweep cell), with the same messages. */
export function validateParams(p: UdpParams): UdpParams {
  if (p.family !== 4 && p.family !== 6) throw bad('family', String(p.family), 'expected 4 or 6');
  if (p.rate !== 'max' && !(Number.isFinite(p.rate) && p.rate > 0)) throw bad('rate', String(p.rate), 'expected datagrams per second > 0 or max');
  if (!Number.isInteger(p.size)) throw bad('size', String(p.size), 'expected a whole number of bytes');
  checkSize(p.size, 'size', String(p.size));
  if (!Number.isInteger(p.count) || p.count < 1 || p.count > MAX_COUNT) throw bad('count', String(p.count), `expected 1..${MAX_COUNT}`);
  if (p.rcvbuf !== null && !(Number.isInteger(p.rcvbuf) && p.rcvbuf >= 1)) throw bad('rcvbuf', String(p.rcvbuf), 'expected bytes >= 1 or null');
  if (!(p.workUs >= 0 && p.workUs <= 1_000_000)) throw bad('workUs', String(p.workUs), 'expected 0..1000000');
  if (!(p.loss >= 0 && p.loss <= 100)) throw bad('loss', String(p.loss), 'expected 0..100 (percent)');
  if (p.mtu !== null && !(Number.isInteger(p.mtu) && p.mtu >= 1280 && p.mtu <= 65536)) throw bad('mtu', String(p.mtu), 'expected 1280..65536');
  if (p.pace && p.rate === 'max') throw bad('pace', 'true', 'pacing spaces sends 1/rate apart: give a --rate');
  return p;
}

/** 40000 -> "40k", 1500000 -> "1.5M" (for reports). */
export function formatRate(r: number | 'max'): string {
  if (r === 'max') return 'max';
  if (r >= 1e6) return `${+(r / 1e6).toPrecision(3)}M`;
  if (r >= 1e3) return `${+(r / 1e3).toPrecision(3)}k`;
  return `${+r.toPrecision(3)}`;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} bytes`;
}
