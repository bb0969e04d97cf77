/**
 * One captured packet as a reader hands it to the decoder: what decode needs from capture, kept
 * here so that decode imports nothing from capture (capture/record.ts re-exports it). The object
 * is reused by the readers: consumers copy what they keep.
 *
 * The frame's bytes are `chunk[offset, offset + caplen)`: a reader that holds a whole read chunk
 * points into it instead of making a Buffer per packet (decodePacket decodes in place). `data`
 * is that frame as its own Buffer, made when asked (a subarray: no copy); a reader that has one
 * Buffer per frame anyway sets `data` (chunk = it, offset 0).
 */
export interface PacketRecord {
  index: number; // 1-based
  tsSec: number;
  tsNsec: number;
  caplen: number;
  origLen: number;
  linkType: number; // per interface in pcapng
  interfaceId: number; // 0 for classic pcap
  fileOffset: number; // where the record starts in the stream
  chunk: Buffer; // holds the frame's bytes from `offset`
  offset: number;
  data: Buffer; // exactly caplen bytes (made on access when the reader set chunk and offset)
}

/**
 * A reusable record: setting `data` points chunk at it (offset 0); reading it slices the chunk.
 * A class, so that the accessor sits on the prototype: an object literal with a getter is kept
 * in dictionary mode, and every field access of the per-packet path became a hash lookup.
 */
class ReusedRecord implements PacketRecord {
  index = 0;
  tsSec = 0;
  tsNsec = 0;
  caplen = 0;
  origLen = 0;
  linkType = -1;
  interfaceId = 0;
  fileOffset = 0;
  chunk: Buffer = Buffer.alloc(0);
  offset = 0;

  get data(): Buffer {
    return this.offset === 0 && this.chunk.length === this.caplen ? this.chunk : this.chunk.subarray(this.offset, this.offset + this.caplen);
  }

  set data(b: Buffer) {
    this.chunk = b;
    this.offset = 0;
  }
}

export function newPacketRecord(): PacketRecord {
  return new ReusedRecord();
}
