/**
 * The first 16 bytes of every datagram the sender writes (big-endian, like iperf3's header):
 *   0..3  sequence number (0-based, u32)
 *   4..7  magic "WLU1" (tells our datagrams apart in a capture)
 *   8..15 send time, epoch milliseconds as a float64 (performance.timeOrigin + performance.now())
 * The rest is zeros. A capture with a 128-byte snaplen still holds the header of the first fragment.
 */
export const HEADER_BYTES = 16;
export const MAGIC = 0x574c5531; // "WLU1"

export function writeHeader(buf: Buffer, seq: number, sentMs: number): void {
  buf.writeUInt32BE(seq, 0);
  buf.writeDoubleBE(sentMs, 8);
}

export function stampMagic(buf: Buffer): void {
  buf.writeUInt32BE(MAGIC, 4);
}

/** The sequence number at `off` in `buf`, or -1 when the bytes there are not our header. */
export function readSeq(buf: Buffer, off: number, avail: number): number {
  if (avail < 8 || off < 0 || off + 8 > buf.length) return -1;
  if (buf.readUInt32BE(off + 4) !== MAGIC) return -1;
  return buf.readUInt32BE(off);
}
