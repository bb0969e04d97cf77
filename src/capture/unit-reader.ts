/**
 * The chunked, carry-over machinery shared by our own readers (classic pcap and pcapng).
 *
 * A capture is a sequence of units (the global header, then records; or pcapng blocks). The
 * reader is pushed the stream's chunks as they arrive and handles every unit that lies whole
 * inside a chunk straight from the chunk (no copy); only a unit that straddles two chunks is
 * copied into a small carry buffer, whose size is bounded by the largest unit the format
 * allows (the caplen bound), so memory does not grow with the file. All complete units of a
 * chunk are processed synchronously: no promise per record.
 */
import { DECODABLE_LINK_TYPES, describeLinkType } from './link-types.js';
import type { CaptureFormat, PacketRecord, ReadFault, ReadSummary, RecordSink } from './record.js';
import { newPacketRecord } from '../decode/record.js';

/** Above this, a caplen / block length is nonsense whatever the header's snaplen says. */
export const CAPLEN_CEILING = 16 * 1024 * 1024;
/** The caplen bound when a snaplen is small or missing: what libpcap itself allows. */
export const MIN_CAPLEN_BOUND = 262144;

/** What one read shares between the dispatcher (read.ts) and the format reader. */
export interface ReadContext {
  sink: RecordSink;
  summary: ReadSummary;
  rec: PacketRecord; // the one reused record
  maxCaplen: number; // opts.maxCaplen, or CAPLEN_CEILING
}

export function newRecord(): PacketRecord {
  return newPacketRecord();
}

export function addFault(summary: ReadSummary, code: string, offset: number, message: string, fatal: boolean): void {
  const f: ReadFault = { offset, code, message, fatal };
  summary.faults.push(f);
}

/** The input stream failed (the last fault is READ_ERROR): no truncation fault on top of it. */
export function readFailed(summary: ReadSummary): boolean {
  const f = summary.faults;
  return f.length > 0 && f[f.length - 1]!.code === 'READ_ERROR';
}

/**
 * A new interface (the classic global header, or a pcapng IDB): record its link type in the
 * summary, tell the sink, and note once per link type when the decoder will not understand it.
 */
export function announceInterface(ctx: ReadContext, format: CaptureFormat, linkType: number, snaplen: number, offset: number): void {
  const s = ctx.summary;
  if (s.linkTypes.length === 0) {
    s.linkType = linkType;
    s.snaplen = snaplen;
  }
  if (!DECODABLE_LINK_TYPES.includes(linkType) && !s.linkTypes.includes(linkType)) {
    addFault(s, 'UNKNOWN_LINK_TYPE', offset, `link type ${describeLinkType(linkType)} (at byte ${offset}) is not one wirelab decodes; it decodes ${DECODABLE_LINK_TYPES.map(describeLinkType).join(', ')}; its packets are counted but not decoded`, false);
  }
  s.linkTypes.push(linkType);
  ctx.sink.onHeader?.(format, linkType, snaplen);
}

/** The largest caplen we accept for a capture whose snaplen is `snaplen`. */
export function caplenBound(snaplen: number, maxCaplen: number): number {
  return Math.min(Math.max(snaplen, MIN_CAPLEN_BOUND), maxCaplen);
}

export abstract class UnitReader {
  /** Stream offset of the next unit (the end of the last complete unit). */
  offset = 0;
  /** Units handed to the subclass so far (records + headers + blocks). */
  protected stopped = false;
  private carry: Buffer = Buffer.allocUnsafe(65536);
  private carryLen = 0;

  constructor(protected readonly ctx: ReadContext) {}

  /**
   * The byte length of the unit starting at buf[off], of which `avail` bytes are present. When
   * `avail` is shorter than the unit's fixed header, return the header length (so it is
   * gathered first); otherwise the whole unit's length, validated. After recording a fatal
   * fault return -1. Must not change state: it may be called more than once per unit.
   */
  protected abstract need(buf: Buffer, off: number, avail: number): number;

  /** Handle the complete unit buf[off, off+len) (stream offset this.offset). false = fatal stop. */
  protected abstract unit(buf: Buffer, off: number, len: number): boolean;

  /** The input ended inside a unit: `have` bytes of it (in buf from 0) arrived. */
  protected abstract incomplete(buf: Buffer, have: number): void;

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Feed one chunk. Returns false once reading has stopped on a fatal fault. */
  push(chunk: Buffer): boolean {
    if (this.stopped) return false;
    let pos = 0;
    const end = chunk.length;
    if (this.carryLen > 0) {
      for (;;) {
        const n = this.need(this.carry, 0, this.carryLen);
        if (n < 0) return this.stop();
        if (n <= this.carryLen) break;
        if (pos === end) return true; // the chunk is used up; wait for more
        if (n > this.carry.length) this.grow(n);
        const take = Math.min(n - this.carryLen, end - pos);
        chunk.copy(this.carry, this.carryLen, pos, pos + take);
        this.carryLen += take;
        pos += take;
      }
      const len = this.carryLen;
      this.carryLen = 0;
      if (!this.unit(this.carry, 0, len)) return this.stop();
      this.offset += len;
    }
    while (pos < end) {
      const avail = end - pos;
      const n = this.need(chunk, pos, avail);
      if (n < 0) return this.stop();
      if (n > avail) break;
      if (!this.unit(chunk, pos, n)) return this.stop();
      pos += n;
      this.offset += n;
    }
    if (pos < end) {
      const tail = end - pos;
      if (tail > this.carry.length) this.grow(tail);
      chunk.copy(this.carry, 0, pos, end);
      this.carryLen = tail;
    }
    return true;
  }

  /** The input ended: report a unit cut short. */
  finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.carryLen > 0) this.incomplete(this.carry, this.carryLen);
  }

  private stop(): false {
    this.stopped = true;
    this.carryLen = 0;
    return false;
  }

  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(n, this.carry.length * 2));
    this.carry.copy(next, 0, 0, this.carryLen);
    this.carry = next;
  }
}
