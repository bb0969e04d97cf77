/**
 * IPv6 (RFC 8200) and its extension headers: hop-by-hop (0), routing (43), fragment (44),
 * destination options (60), AH (51), mobility (135), HIP (139), shim6 (140), experimental
 * (253, 254). `proto` is the protocol after them; 59 (no next header) and ESP (50) end the walk.
 * Ports are decoded only when no fragment header says "offset > 0".
 */
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';

/** Results of the last walkExtensions call (module scratch: the hot path allocates nothing). */
export const walk = {
  proto: 0,
  offset: 0, // first byte after the last extension header
  fragmentHeader: false,
  fragmentOffset: 0, // bytes
  moreFragments: false,
  fragmentId: 0,
  badOffset: -1, // where the lying extension header starts (status BAD)
};
export const WALK_OK = 0;
export const WALK_TRUNCATED = 1;
export const WALK_BAD = 2;

/**
 * Walks extension headers starting at `off` with next-header `nh`. `end` is where the datagram
 * ends according to its payload length; `capEnd` where the captured bytes end.
 */
export function walkExtensions(buf: Uint8Array, off: number, nh: number, end: number, capEnd: number): number {
  walk.fragmentHeader = false;
  walk.fragmentOffset = 0;
  walk.moreFragments = false;
  walk.fragmentId = 0;
  walk.badOffset = -1;
  for (let hops = 0; hops < 32; hops++) {
    let len: number;
    switch (nh) {
      case 0:
      case 43:
      case 60:
      case 135:
      case 139:
      case 140:
      case 253:
      case 254:
        if (off + 2 > end) return bad(off, nh);
        if (off + 2 > capEnd) return stop(off, nh, WALK_TRUNCATED);
        len = (buf[off + 1]! + 1) << 3;
        break;
      case 51: // AH counts 4-byte words, minus 2
        if (off + 2 > end) return bad(off, nh);
        if (off + 2 > capEnd) return stop(off, nh, WALK_TRUNCATED);
        len = (buf[off + 1]! + 2) << 2;
        break;
      case 44:
        len = 8;
        break;
      default:
        return stop(off, nh, WALK_OK);
    }
    if (off + len > end) return bad(off, nh);
    if (off + len > capEnd) return stop(off, nh, WALK_TRUNCATED);
    const next = buf[off]!;
    if (nh === 44) {
      const fo = (buf[off + 2]! << 8) | buf[off + 3]!;
      walk.fragmentHeader = true;
      walk.fragmentOffset = fo & 0xfff8; // 13-bit offset in 8-byte units, already shifted
      walk.moreFragments = (fo & 1) !== 0;
      walk.fragmentId = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
      if (walk.fragmentOffset !== 0) return stop(off + len, next, WALK_OK); // the rest is the middle of a datagram
    }
    off += len;
    nh = next;
  }
  return stop(off, nh, WALK_OK);
}

function stop(off: number, nh: number, status: number): number {
  walk.offset = off;
  walk.proto = nh;
  return status;
}

function bad(off: number, nh: number): number {
  walk.badOffset = off;
  return stop(off, nh, WALK_BAD);
}

export function decodeIPv6(p: DecodedPacket, off: number): boolean {
  const buf = p.buf;
  const captured = p.end - off;
  p.ipOffset = off;
  if (captured < 1) {
    p.truncated = true;
    return false;
  }
  const version = buf[off]! >> 4;
  if (version !== 6) {
    setError(p, 'ipv6', 'BAD_IP_VERSION', `IP version ${version} where IPv6 was announced`, off);
    return false;
  }
  if (captured < 40) {
    p.truncated = true;
    return false;
  }
  p.net = 6;
  p.addrLength = 16;
  p.srcOffset = off + 8;
  p.dstOffset = off + 24;
  p.ttl = buf[off + 7]!;
  let nh = buf[off + 6]!;
  const onWire = p.origLen - off;
  let total = 40 + ((buf[off + 4]! << 8) | buf[off + 5]!);
  if (total === 40 && onWire > 40 && nh !== 59) {
    // Payload length 0 with bytes behind it: a jumbogram (RFC 2675) or a GSO / BIG TCP packet
    // captured on the sending host. Take the frame's length, as Wireshark does.
    total = onWire;
  }
  p.ipTotalLength = total;
  // Longer than the bytes captured: cut by the snaplen, or by a capture device that recorded the
  // cut length as the frame's: truncation either way, as tshark reads it.
  if (total > captured) p.truncated = true;
  const end = off + total;
  const capEnd = p.end < end ? p.end : end;
  const status = walkExtensions(buf, off + 40, nh, end, capEnd);
  nh = walk.proto;
  p.proto = nh;
  p.ipHeaderLength = walk.offset - off;
  if (walk.fragmentHeader) {
    p.isFragment = true;
    p.moreFragments = walk.moreFragments;
    p.fragmentOffset = walk.fragmentOffset;
    p.ipId = walk.fragmentId;
  }
  if (status === WALK_BAD) {
    setError(p, 'ipv6', 'BAD_EXTENSION_HEADER', `IPv6 extension header ${nh} runs past the payload length ${total - 40}`, walk.badOffset);
    return false;
  }
  if (status === WALK_TRUNCATED) {
    p.truncated = true;
    return false;
  }
  if (p.fragmentOffset !== 0 || nh === 59 || nh === 50) {
    p.payloadOffset = walk.offset;
    p.payloadLength = end - walk.offset;
    return false;
  }
  p.l4Offset = walk.offset;
  return true;
}
