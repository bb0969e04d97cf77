/**
 * The start TCP and UDP share: the IP payload must hold the minimum header, then the two ports,
 * then the rest of the minimum header. Returns false when decoding of this layer stops here
 * (an error or a snaplen cut, both already recorded on the packet).
 */
import type { DecodedPacket, DecodeLayer } from './packet.js';
import { setError } from './errors.js';

export function decodePorts(p: DecodedPacket, off: number, len: number, minHeader: number, layer: DecodeLayer, code: string, what: string): boolean {
  const buf = p.buf;
  const captured = p.end - off;
  p.l4Offset = off;
  if (len < minHeader) {
    setError(p, layer, code, `IP payload of ${len} bytes is shorter than a ${what} header (${minHeader})`, off);
    return false;
  }
  if (captured < 4) {
    p.truncated = true;
    return false;
  }
  p.srcPort = (buf[off]! << 8) | buf[off + 1]!;
  p.dstPort = (buf[off + 2]! << 8) | buf[off + 3]!;
  if (captured < minHeader) {
    p.truncated = true;
    return false;
  }
  return true;
}
