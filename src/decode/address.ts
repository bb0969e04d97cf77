/**
 * Addresses as text. Not on the hot path: analyzers call these once per new connection or
 * flow, never per packet. IPv6 follows RFC 5952 (lower case, no leading zeros, the longest run
 * of two or more zero groups shortened to "::", the first run on a tie) with the dotted-quad tail
 * that inet_ntop (and so tcpdump and Wireshark) prints for IPv4-mapped and IPv4-compatible
 * addresses.
 */
import { endpointText } from '../endpoint.js';

export function formatAddress(buf: Uint8Array, offset: number, len: 4 | 16): string {
  if (len === 4) {
    return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
  }
  return formatIPv6(buf, offset);
}

/** "10.0.0.1:80" or "[::1]:80". */
export function formatEndpoint(buf: Uint8Array, offset: number, len: 4 | 16, port: number): string {
  return endpointText(formatAddress(buf, offset, len), port);
}

function formatIPv6(buf: Uint8Array, offset: number): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (buf[offset + 2 * i]! << 8) | buf[offset + 2 * i + 1]!;

  // Longest run of zero words (length >= 2); first wins on a tie.
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;

  // inet_ntop's mixed notation: ::a.b.c.d (compatible, word 6 non-zero) and ::ffff:a.b.c.d (mapped).
  const dotted =
    bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff));

  let out = '';
  const lastWord = dotted ? 6 : 8;
  for (let i = 0; i < lastWord; i++) {
    if (i === bestBase) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i]!.toString(16);
  }
  if (dotted) {
    if (!out.endsWith(':')) out += ':';
    out += `${buf[offset + 12]}.${buf[offset + 13]}.${buf[offset + 14]}.${buf[offset + 15]}`;
  }
  return out;
}
