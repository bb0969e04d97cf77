/**
 * ICMPv6 (RFC 4443). Type and code always; errors (destination unreachable 1, packet too big 2,
 * time exceeded 3, parameter problem 4) quote the offending packet into `quoted`; packet too big
 * carries the MTU (icmpMtu). Port unreachable is 1/4, hop limit exceeded 3/0, reassembly time
 * exceeded 3/1.
 */
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';
import { decodeQuoted } from './quoted.js';

export const ICMP6_DST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAM_PROB = 4;
export const ICMP6_PORT_UNREACH = 4; // code of type 1

export function decodeIcmpv6(p: DecodedPacket, off: number, len: number): void {
  const buf = p.buf;
  p.l4Offset = off;
  if (len < 4) {
    setError(p, 'icmpv6', 'SHORT_MESSAGE', `ICMPv6 message of ${len} bytes (< 4)`, off);
    return;
  }
  const captured = p.end - off;
  if (captured < 2) {
    p.truncated = true;
    return;
  }
  const type = buf[off]!;
  p.icmpType = type;
  p.icmpCode = buf[off + 1]!;
  if (type >= 1 && type <= 4) {
    if (len < 8) {
      setError(p, 'icmpv6', 'SHORT_MESSAGE', `ICMPv6 error message of ${len} bytes (< 8)`, off);
      return;
    }
    if (captured < 8) {
      p.truncated = true;
      return;
    }
    if (type === ICMP6_PACKET_TOO_BIG) {
      p.icmpMtu = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
    }
    const end = off + len < p.end ? off + len : p.end;
    decodeQuoted(p, off + 8, end);
  }
  const hdr = len < 8 ? len : 8;
  p.payloadOffset = off + hdr;
  p.payloadLength = len - hdr;
  if (off + len > p.end) p.truncated = true;
}
