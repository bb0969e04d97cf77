/**
 * Decode errors are values on the packet, never exceptions. Only packets that carry a lie
 * allocate (one small object each); clean packets allocate nothing.
 */
import type { DecodedPacket, DecodeLayer } from './packet.js';

export function setError(p: DecodedPacket, layer: DecodeLayer, code: string, message: string, offset: number): void {
  if (p.error !== null) return; // keep the first: later layers only follow from it
  p.error = { layer, code, message, offset: offset - p.start }; // within the frame
}
