/**
 * The offending datagram an ICMP / ICMPv6 error quotes (RFC 792: its IP header and the first 8
 * bytes after it; RFC 4443: as much as fits). Fills `p.quoted`; a quote cut short only leaves
 * fields at their "unknown" values (quotes are often short by design, so this is no error).
 */
import type { DecodedPacket } from './packet.js';
import { walk, walkExtensions, WALK_BAD } from './ipv6.js';

export function decodeQuoted(p: DecodedPacket, off: number, end: number): void {
  const buf = p.buf;
  const q = p.quoted;
  if (end - off < 1) return;
  const version = buf[off]! >> 4;
  let l4: number;
  if (version === 4) {
    if (end - off < 20) return;
    const ihl = (buf[off]! & 0x0f) << 2;
    if (ihl < 20) return;
    q.present = true;
    q.net = 4;
    q.proto = buf[off + 9]!;
    q.srcOffset = off + 12;
    q.dstOffset = off + 16;
    q.ipId = (buf[off + 4]! << 8) | buf[off + 5]!;
    if ((((buf[off + 6]! << 8) | buf[off + 7]!) & 0x1fff) !== 0) return; // a later fragment: no ports
    l4 = off + ihl;
  } else if (version === 6) {
    if (end - off < 40) return;
    q.present = true;
    q.net = 6;
    q.srcOffset = off + 8;
    q.dstOffset = off + 24;
    const status = walkExtensions(buf, off + 40, buf[off + 6]!, end, end);
    q.proto = walk.proto;
    q.ipId = walk.fragmentId;
    if (status === WALK_BAD || walk.fragmentOffset !== 0) return;
    l4 = walk.offset;
  } else {
    return;
  }
  const proto = q.proto;
  if ((proto === 6 || proto === 17) && l4 + 4 <= end) {
    q.srcPort = (buf[l4]! << 8) | buf[l4 + 1]!;
    q.dstPort = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
  }
}
