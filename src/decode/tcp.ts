/**
 * TCP (RFC 9293) header and options. `len` is the segment length the IP header announces (not
 * the captured length). Flags include ECE, CWR and AE (the old NS bit, byte 12 bit 0) as 0x100.
 * Options: EOL, NOP, MSS, window scale, SACK-permitted, SACK blocks, timestamps, TFO (34, and
 * the experimental 254 with magic 0xF989); other kinds are kept raw in tcpOptions.unknown.
 * A data offset < 5 or past the segment is an error on layer 'tcp' (the fixed header fields
 * decoded before it stay, the segment is not usable). An option with a wrong length (a timestamps
 * option of length 8, a length past the header) is an error on layer 'tcp-option': the fixed
 * header is intact, so the segment is kept; options parsing stops at the bad one
 * (tcpOptions.badOffset), the options before it stay.
 */
import type { DecodedPacket, TcpOptions } from './packet.js';
import { setError } from './errors.js';
import { decodePorts } from './ports.js';

export function decodeTcp(p: DecodedPacket, off: number, len: number): void {
  const buf = p.buf;
  if (!decodePorts(p, off, len, 20, 'tcp', 'SHORT_SEGMENT', 'TCP')) return;
  p.seq = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
  p.ack = ((buf[off + 8]! << 24) | (buf[off + 9]! << 16) | (buf[off + 10]! << 8) | buf[off + 11]!) >>> 0;
  const b12 = buf[off + 12]!;
  p.tcpFlags = buf[off + 13]! | ((b12 & 1) << 8);
  p.window = (buf[off + 14]! << 8) | buf[off + 15]!;
  p.urgent = (buf[off + 18]! << 8) | buf[off + 19]!;
  const hlen = (b12 >> 4) << 2;
  p.tcpHeaderLength = hlen;
  if (hlen < 20) {
    setError(p, 'tcp', 'BAD_DATA_OFFSET', `TCP data offset ${hlen >> 2} (< 5)`, off + 12);
    return;
  }
  if (hlen > len) {
    setError(p, 'tcp', 'BAD_DATA_OFFSET', `TCP data offset ${hlen >> 2} (${hlen} bytes) > segment length ${len}`, off + 12);
    return;
  }
  p.payloadOffset = off + hlen;
  p.payloadLength = len - hlen;
  if (hlen > 20) {
    let optEnd = off + hlen;
    if (optEnd > p.end) {
      p.truncated = true;
      optEnd = p.end;
    }
    decodeOptions(p, off + 20, optEnd, optEnd === off + hlen);
  }
  if (off + len > p.end) p.truncated = true;
}

/** Parses options in [start, end). `complete` is false when the snaplen cut the option space. */
function decodeOptions(p: DecodedPacket, start: number, end: number, complete: boolean): void {
  const buf = p.buf;
  const o = p.tcpOptions;
  let i = start;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === 0) return; // EOL
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) {
      if (complete) optionError(p, kind, i, 'has no length byte');
      return;
    }
    const olen = buf[i + 1]!;
    if (olen < 2) {
      optionError(p, kind, i, `length ${olen} (< 2)`);
      return;
    }
    if (i + olen > end) {
      if (complete) optionError(p, kind, i, `length ${olen} runs past the header`);
      return;
    }
    switch (kind) {
      case 2:
        if (olen !== 4) return optionError(p, kind, i, `MSS length ${olen} (!= 4)`);
        o.mss = (buf[i + 2]! << 8) | buf[i + 3]!;
        break;
      case 3:
        if (olen !== 3) return optionError(p, kind, i, `window scale length ${olen} (!= 3)`);
        o.wscale = buf[i + 2]!;
        break;
      case 4:
        if (olen !== 2) return optionError(p, kind, i, `SACK-permitted length ${olen} (!= 2)`);
        o.sackPermitted = true;
        break;
      case 5: {
        const blocks = (olen - 2) >> 3;
        if ((olen - 2) % 8 !== 0 || blocks < 1 || blocks > 4) {
          return optionError(p, kind, i, `SACK length ${olen} (not 2 + 8n, n 1..4)`);
        }
        o.sackCount = blocks;
        for (let b = 0; b < blocks * 2; b++) o.sack[b] = readU32(buf, i + 2 + 4 * b);
        break;
      }
      case 8:
        if (olen !== 10) return optionError(p, kind, i, `timestamps length ${olen} (!= 10)`);
        o.hasTimestamps = true;
        o.tsVal = readU32(buf, i + 2);
        o.tsEcr = readU32(buf, i + 6);
        break;
      case 34:
        tfo(o, i + 2, olen - 2);
        break;
      case 254:
        if (olen >= 4 && buf[i + 2] === 0xf9 && buf[i + 3] === 0x89) tfo(o, i + 4, olen - 4);
        else unknown(o, kind, i, olen);
        break;
      default:
        unknown(o, kind, i, olen);
    }
    i += olen;
  }
}

function tfo(o: TcpOptions, cookieOffset: number, cookieLength: number): void {
  o.tfoPresent = true;
  o.tfoCookieOffset = cookieLength > 0 ? cookieOffset : -1;
  o.tfoCookieLength = cookieLength;
}

function unknown(o: TcpOptions, kind: number, offset: number, length: number): void {
  const n = o.unknownCount;
  if (n < o.unknown.length) {
    const u = o.unknown[n]!;
    u.kind = kind;
    u.offset = offset;
    u.length = length;
  } else {
    o.unknown.push({ kind, offset, length }); // rare: the array is reused across packets
  }
  o.unknownCount = n + 1;
}

function optionError(p: DecodedPacket, kind: number, offset: number, what: string): void {
  if (p.tcpOptions.badOffset < 0) p.tcpOptions.badOffset = offset;
  setError(p, 'tcp-option', 'BAD_OPTION', `TCP option kind ${kind} at byte ${offset - p.start}: ${what}`, offset);
}

function readU32(buf: Uint8Array, i: number): number {
  return ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
}
