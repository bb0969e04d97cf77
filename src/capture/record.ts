/**
 * What every capture reader (pcap-parser for classic pcap, our own for nanosecond / big-endian
 * pcap and pcapng) hands to its consumer, one record at a time. The record object is reused:
 * consumers copy what they keep.
 */
export type CaptureFormat = 'pcap' | 'pcapng';

export type { PacketRecord } from '../decode/record.js';
import type { PacketRecord } from '../decode/record.js';

/** A fault in the file: reported with its byte offset; everything before it is kept. */
export interface ReadFault {
  offset: number;
  code: string; // 'TRUNCATED_HEADER', 'TRUNCATED_RECORD', 'ABSURD_CAPLEN', 'UNKNOWN_MAGIC', 'UNKNOWN_LINK_TYPE', 'UNKNOWN_BLOCK', 'GARBAGE', 'EMPTY', 'READ_ERROR'
  message: string; // "record 1042 at byte 88312: captured length 4294967295 > 262144 (snaplen); the rest of the file is ignored"
  fatal: boolean; // reading stopped here
}

export interface ReadSummary {
  format: CaptureFormat | null; // null when the first bytes were not a capture at all
  linkType: number; // of the first interface (-1 when none)
  linkTypes: number[]; // every interface's link type (pcapng may have several)
  snaplen: number;
  packets: number;
  bytes: number; // bytes consumed
  faults: ReadFault[];
}

export interface RecordSink {
  /** Called once the global header / first interface is known (may be called again for new pcapng interfaces). */
  onHeader?(format: CaptureFormat, linkType: number, snaplen: number): void;
  onRecord(rec: PacketRecord): void;
}
