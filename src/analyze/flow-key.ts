/**
 * Flow keys without strings: a 32-bit hash of the address bytes and ports read straight out of
 * the packet buffer, and exact byte compares against the copies a connection keeps: no string
 * is built per packet.
 */
import type { DecodedPacket } from '../decode/packet.js';

/** Hash of one endpoint (address bytes + port). */
export function hashEndpoint(buf: Uint8Array, off: number, len: number, port: number): number {
  let h = 0x811c9dc5 ^ port;
  for (let i = 0; i < len; i += 4) {
    const w = (buf[off + i]! << 24) | (buf[off + i + 1]! << 16) | (buf[off + i + 2]! << 8) | buf[off + i + 3]!;
    h = Math.imul(h ^ w, 0x01000193);
    h ^= h >>> 15;
  }
  return Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Same value for both directions of a TCP connection. */
export function hashPairUndirected(p: DecodedPacket): number {
  const a = hashEndpoint(p.buf, p.srcOffset, p.addrLength, p.srcPort);
  const b = hashEndpoint(p.buf, p.dstOffset, p.addrLength, p.dstPort);
  return mix((a + b) >>> 0) ^ (Math.imul(a, b) >>> 0) ^ p.addrLength;
}

/** One value per direction (UDP flows). */
export function hashPairDirected(p: DecodedPacket, proto: number): number {
  const a = hashEndpoint(p.buf, p.srcOffset, p.addrLength, p.srcPort);
  const b = hashEndpoint(p.buf, p.dstOffset, p.addrLength, p.dstPort);
  return mix((Math.imul(a, 31) + b + proto) >>> 0);
}

export function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** A copy of an address (done once per new connection or flow). */
export function copyAddress(buf: Uint8Array, off: number, len: number): Uint8Array {
  return Uint8Array.prototype.slice.call(buf, off, off + len);
}

/** Buckets keyed by hash: a single value, or an array when different keys collide. */
export class HashBuckets<T> {
  private map = new Map<number, T | T[]>();

  /** The raw bucket: callers loop over it themselves (no closure per packet on hot paths). */
  bucket(hash: number): T | T[] | undefined {
    return this.map.get(hash);
  }

  /** Adds v. */
  put(hash: number, v: T): void {
    const b = this.map.get(hash);
    if (b === undefined) this.map.set(hash, v);
    else if (!Array.isArray(b)) this.map.set(hash, [b, v]);
    else b.push(v);
  }

  /** Removes v (kept under hash). */
  remove(hash: number, v: T): void {
    const b = this.map.get(hash);
    if (b === v) this.map.delete(hash);
    else if (Array.isArray(b)) {
      const i = b.indexOf(v);
      if (i >= 0) b.splice(i, 1);
      if (b.length === 0) this.map.delete(hash);
    }
  }

  /** Every value kept. */
  *values(): Generator<T> {
    for (const b of this.map.values()) {
      if (Array.isArray(b)) yield* b;
      else yield b;
    }
  }

  get size(): number {
    return this.map.size;
  }
}
