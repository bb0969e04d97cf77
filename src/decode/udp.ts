/**
 * UDP (RFC 768). `len` is the IP payload length from the IP header. The UDP length field must
 * fit it: larger than the IP payload, or below 8, is an error on layer 'udp'. Smaller is what
 * Linux accepts (udp_rcv trims the datagram to the UDP length), so the UDP length wins, no
 * error. A first IP fragment carries the whole datagram's UDP length: there `payloadLength` is
 * what this fragment carries and `udpLength` the datagram's claim.
 */
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';
import { decodePorts } from './ports.js';

export function decodeUdp(p: DecodedPacket, off: number, len: number): void {
  const buf = p.buf;
  if (!decodePorts(p, off, len, 8, 'udp', 'SHORT_DATAGRAM', 'UDP')) return;
  const ulen = (buf[off + 4]! << 8) | buf[off + 5]!;
  p.udpLength = ulen;
  p.payloadOffset = off + 8;
  if (p.moreFragments) {
    // First fragment of a larger datagram: the UDP length covers every fragment.
    if (ulen < len) {
      setError(p, 'udp', 'BAD_UDP_LENGTH', `UDP length ${ulen} < ${len} bytes in the first fragment`, off + 4);
      return;
    }
    p.payloadLength = len - 8;
  } else if (ulen < 8 || ulen > len) {
    if (!(ulen === 0 && p.net === 6 && len > 0xffff)) {
      // (0 is legal only in an IPv6 jumbogram, RFC 2675)
      setError(p, 'udp', 'BAD_UDP_LENGTH', `UDP length ${ulen} ${ulen < 8 ? '< 8' : `> IP payload ${len}`}`, off + 4);
      return;
    }
    p.payloadLength = len - 8;
  } else {
    p.payloadLength = ulen - 8;
  }
  if (off + len > p.end) p.truncated = true;
}
