/**
 * Our own classic pcap reader: every classic pcap in a regular file (both byte orders, micro- and
 * nanoseconds: magic a1b2c3d4 / a1b23c4d), and what pcap-parser cannot read from a stream
 * (big-endian, nanoseconds). In `scan` mode it only checks record headers: read.ts runs it
 * beside pcap-parser on a stream to find, with byte offsets, what pcap-parser would silently
 * drop (a truncated last record) or choke on (a giant caplen).
 *
 * Layout (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a 24-byte global header
 * (magic, version 2.4, thiszone, sigfigs, snaplen, linktype), then records of a 16-byte header
 * (ts_sec, ts_usec or ts_nsec, caplen, len) followed by caplen bytes.
 */
import { describeLinkType } from './link-types.js';
import { addFault, announceInterface, caplenBound, UnitReader, type ReadContext } from './unit-reader.js';

export const MAGIC_USEC = 0xa1b2c3d4;
export const MAGIC_NSEC = 0xa1b23c4d;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

/** Which classic flavour the first four bytes announce, or null. */
export function classicMagic(b: Buffer): { le: boolean; nsec: boolean } | null {
  const le = b.readUInt32LE(0);
  if (le === MAGIC_USEC) return { le: true, nsec: false };
  if (le === MAGIC_NSEC) return { le: true, nsec: true };
  const be = b.readUInt32BE(0);
  if (be === MAGIC_USEC) return { le: false, nsec: false };
  if (be === MAGIC_NSEC) return { le: false, nsec: true };
  return null;
}

export class ClassicReader extends UnitReader {
  private inHeader = true;
  private bound = 0;
  private records = 0; // complete records seen (delivered, or only counted in scan mode)
  private readonly tsMul: number;

  /** scan = true: check headers and count records, deliver no record (pcap-parser delivers). */
  constructor(
    ctx: ReadContext,
    private readonly le: boolean,
    nsec: boolean,
    private readonly scan = false,
  ) {
    super(ctx);
    this.tsMul = nsec ? 1 : 1000;
  }

  /** Complete records seen so far (delivered, or counted in scan mode). */
  get recordCount(): number {
    return this.records;
  }

  private u32(b: Buffer, o: number): number {
    // Plain byte reads: cheaper than readUInt32LE/BE's checks, once per record header field.
    return this.le
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  protected need(buf: Buffer, off: number, avail: number): number {
    if (this.inHeader) return GLOBAL_HEADER;
    if (avail < RECORD_HEADER) return RECORD_HEADER;
    const caplen = this.u32(buf, off + 8);
    if (caplen > this.bound) return this.absurd(buf, off, caplen);
    return RECORD_HEADER + caplen;
  }

  protected unit(buf: Buffer, off: number, len: number): boolean {
    if (this.inHeader) return this.globalHeader(buf, off);
    const n = ++this.records;
    if (this.scan) return true;
    const caplen = len - RECORD_HEADER;
    const rec = this.ctx.rec;
    rec.index = n;
    rec.tsSec = this.u32(buf, off);
    rec.tsNsec = this.u32(buf, off + 4) * this.tsMul;
    rec.caplen = caplen;
    rec.origLen = this.u32(buf, off + 12);
    rec.fileOffset = this.offset;
    rec.chunk = buf; // the frame is decoded in place: no Buffer per packet
    rec.offset = off + RECORD_HEADER;
    this.ctx.summary.packets = n;
    this.ctx.sink.onRecord(rec);
    return true;
  }

  protected incomplete(buf: Buffer, have: number): void {
    const s = this.ctx.summary;
    if (this.inHeader) {
      addFault(s, 'TRUNCATED_HEADER', 0, `the pcap global header needs ${GLOBAL_HEADER} bytes, the input has only ${have}; the file was cut short`, true);
      return;
    }
    const n = this.records + 1;
    const at = this.offset;
    if (have < RECORD_HEADER) {
      addFault(s, 'TRUNCATED_RECORD', at, `record ${n} at byte ${at}: only ${have} of its ${RECORD_HEADER}-byte header remain; the capture was cut short`, false);
      return;
    }
    const caplen = this.u32(buf, 8);
    addFault(s, 'TRUNCATED_RECORD', at, `record ${n} at byte ${at}: header says ${caplen} bytes, only ${have - RECORD_HEADER} remain; the capture was cut short`, false);
  }

  private globalHeader(buf: Buffer, off: number): boolean {
    const s = this.ctx.summary;
    const major = this.le ? buf.readUInt16LE(off + 4) : buf.readUInt16BE(off + 4);
    const minor = this.le ? buf.readUInt16LE(off + 6) : buf.readUInt16BE(off + 6);
    if (major !== 2) {
      addFault(s, 'UNSUPPORTED_VERSION', 4, `pcap version ${major}.${minor}: wirelab reads pcap version 2.x; re-save the file with \`editcap -F pcap in out.pcap\``, true);
      return false;
    }
    const snaplen = this.u32(buf, off + 16);
    // The upper bits of the link-type field carry FCS information (LT_LINKTYPE in libpcap).
    const linkType = this.u32(buf, off + 20) & 0x03ffffff;
    this.bound = caplenBound(snaplen, this.ctx.maxCaplen);
    this.inHeader = false;
    s.format = 'pcap';
    const rec = this.ctx.rec;
    rec.linkType = linkType;
    rec.interfaceId = 0;
    announceInterface(this.ctx, 'pcap', linkType, snaplen, 20);
    return true;
  }

  private absurd(buf: Buffer, off: number, caplen: number): -1 {
    const n = this.records + 1;
    const at = this.offset;
    const s = this.ctx.summary;
    // A header whose fraction of a second is out of range too is not a record at all.
    const frac = this.u32(buf, off + 4);
    const garbage = frac >= (this.tsMul === 1 ? 1e9 : 1e6);
    addFault(
      s,
      garbage ? 'GARBAGE' : 'ABSURD_CAPLEN',
      at,
      `record ${n} at byte ${at}: captured length ${caplen} > ${this.bound} (snaplen ${s.snaplen}, reader limit ${this.ctx.maxCaplen})${garbage ? ' and its timestamp fraction is out of range: not a record header (garbage after the valid part?)' : ''}; the rest of the file is ignored (link type ${describeLinkType(s.linkType)})`,
      true,
    );
    return -1;
  }
}
