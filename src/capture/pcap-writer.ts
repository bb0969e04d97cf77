/**
 * A small classic pcap writer: little-endian, microsecond timestamps (magic a1b2c3d4 written LE),
 * version 2.4, the format pcap-parser, tcpdump, tshark and Wireshark all read.
 */

export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101; // raw IP, version from the first nibble
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;

/** The 24-byte global header. */
export function pcapGlobalHeader(linkType: number, snaplen: number): Buffer {
  const b = Buffer.alloc(PCAP_GLOBAL_HEADER_LEN);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8); // thiszone
  b.writeUInt32LE(0, 12); // sigfigs
  b.writeUInt32LE(snaplen >>> 0, 16);
  b.writeUInt32LE(linkType >>> 0, 20);
  return b;
}

/**
 * Write a 16-byte record header into `into` at `offset` (no allocation), or into a new buffer.
 * Returns the buffer written to.
 */
export function pcapRecordHeader(tsSec: number, tsUsec: number, caplen: number, origLen: number, into?: Buffer, offset = 0): Buffer {
  const b = into ?? Buffer.alloc(PCAP_RECORD_HEADER_LEN);
  b.writeUInt32LE(tsSec >>> 0, offset);
  b.writeUInt32LE(tsUsec >>> 0, offset + 4);
  b.writeUInt32LE(caplen >>> 0, offset + 8);
  b.writeUInt32LE(origLen >>> 0, offset + 12);
  return b;
}

/** One whole record (header + the first `snaplen` bytes of `packet`) as a new buffer. */
export function pcapRecord(tsSec: number, tsUsec: number, packet: Buffer, snaplen: number, origLen = packet.length): Buffer {
  const caplen = Math.min(packet.length, snaplen);
  const b = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LEN + caplen);
  pcapRecordHeader(tsSec, tsUsec, caplen, origLen, b, 0);
  packet.copy(b, PCAP_RECORD_HEADER_LEN, 0, caplen);
  return b;
}

/** Epoch time in microseconds split into (seconds, microseconds). */
export function splitMicros(us: number): [number, number] {
  const sec = Math.floor(us / 1e6);
  return [sec, Math.round(us - sec * 1e6)];
}
