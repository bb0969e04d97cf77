/**
 * One captured packet as a reader hands it to the decoder: what decode needs from capture, kept
 * here so that decode imports nothing from capture (capture/record.ts re-exports it). The object
 * is reused by the readers: consumers copy what they keep.
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
  data: Buffer; // exactly caplen bytes
}
