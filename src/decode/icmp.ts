/**
 * ICMP for IPv4 (RFC 792 / 1191). Type and code always; for the errors (destination
 * unreachable 3, source quench 4, redirect 5, time exceeded 11, parameter problem 12) the quoted
 * datagram's header into `quoted`; for "fragmentation needed" (3/4) the next-hop MTU.
 * Port unreachable is 3/3, TTL exceeded 11/0, reassembly time exceeded 11/1.
 */
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';
import { decodeQuoted } from './quoted.js';

export const ICMP_DEST_UNREACH = 3;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PORT_UNREACH = 3; // code
export const ICMP_FRAG_NEEDED = 4; // code

export function decodeIcmp(p: DecodedPacket, off: number, len: number): void {
  const buf = p.buf;
  p.l4Offset = off;
  if (len < 8) {
    setError(p, 'icmp', 'SHORT_MESSAGE', `ICMP message of ${len} bytes (< 8)`, off);
    return;
  }
  const captured = p.end - off;
  if (captured < 2) {
    p.truncated = true;
    return;
  }
  const type = buf[off]!;
  const code = buf[off + 1]!;
  p.icmpType = type;
  p.icmpCode = code;
  if (captured < 8) {
    p.truncated = true;
    return;
  }
  p.payloadOffset = off + 8;
  p.payloadLength = len - 8;
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) p.icmpMtu = (buf[off + 6]! << 8) | buf[off + 7]!;
  if (type === 3 || type === 4 || type === 5 || type === 11 || type === 12) {
    const end = off + len < p.end ? off + len : p.end;
    decodeQuoted(p, off + 8, end);
  }
  if (off + len > p.end) p.truncated = true;
}
