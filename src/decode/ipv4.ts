/**
 * IPv4 (RFC 791). Lengths come from the header, never from the captured length: Ethernet pads
 * short frames to 60 bytes, and the pad is not payload. A snaplen that cuts the datagram sets
 * `truncated`, and so does a total length longer than the frame on the wire (a capture device
 * that cut the frame and recorded the cut length); a header that lies (IHL < 5, total length <
 * header length) is an error on layer 'ipv4'.
 *
 * Returns true when a transport header follows (not a fragment, or the first fragment).
 */
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';

export function decodeIPv4(p: DecodedPacket, off: number): boolean {
  const buf = p.buf;
  const captured = p.end - off;
  p.ipOffset = off;
  if (captured < 1) {
    p.truncated = true;
    return false;
  }
  const b0 = buf[off]!;
  const version = b0 >> 4;
  if (version !== 4) {
    setError(p, 'ipv4', 'BAD_IP_VERSION', `IP version ${version} where IPv4 was announced`, off);
    return false;
  }
  const ihl = (b0 & 0x0f) << 2;
  if (ihl < 20) {
    setError(p, 'ipv4', 'BAD_IHL', `IPv4 IHL ${ihl >> 2} (< 5)`, off);
    return false;
  }
  if (captured < 20) {
    p.truncated = true;
    return false;
  }
  p.net = 4;
  p.addrLength = 4;
  p.ipHeaderLength = ihl;
  p.srcOffset = off + 12;
  p.dstOffset = off + 16;
  p.ttl = buf[off + 8]!;
  p.proto = buf[off + 9]!;
  p.ipId = (buf[off + 4]! << 8) | buf[off + 5]!;
  const frag = (buf[off + 6]! << 8) | buf[off + 7]!;
  p.dontFragment = (frag & 0x4000) !== 0;
  p.moreFragments = (frag & 0x2000) !== 0;
  p.fragmentOffset = (frag & 0x1fff) << 3;
  p.isFragment = p.moreFragments || p.fragmentOffset !== 0;

  const onWire = p.origLen - off; // bytes from here to the end of the frame on the wire
  let total = (buf[off + 2]! << 8) | buf[off + 3]!;
  if (total === 0 && onWire >= ihl) {
    // TSO/GSO: a capture taken on the sending host before segmentation says 0 (Wireshark does the same).
    total = onWire;
  }
  if (total < ihl) {
    p.ipTotalLength = total;
    setError(p, 'ipv4', 'BAD_TOTAL_LENGTH', `IPv4 total length ${total} < header length ${ihl}`, off + 2);
    return false;
  }
  p.ipTotalLength = total;
  if (total > captured) {
    // Cut by the snaplen, or by the capture device before the frame's length was recorded
    // (origLen shorter than the total length too): truncation either way, as tshark reads it.
    p.truncated = true;
  }
  if (ihl > captured) {
    p.truncated = true; // options cut by the snaplen
    return false;
  }
  const payloadOff = off + ihl;
  if (p.fragmentOffset !== 0) {
    // A later fragment: bytes of the middle of a datagram, no transport header.
    p.payloadOffset = payloadOff;
    p.payloadLength = total - ihl;
    return false;
  }
  p.l4Offset = payloadOff;
  return true;
}
