/**
 * Our own streaming pcapng reader (draft-ietf-opsawg-pcapng). Every block is
 * `type u32 | total length u32 | body | total length u32`, in the byte order of its section
 * (the section header block's byte-order magic 1a2b3c4d). Handled: section headers (several
 * sections, either byte order), interface descriptions (link type, snaplen, if_tsresol as a
 * power of 10 or of 2, if_tsoffset), enhanced packets, simple packets (interface 0, no
 * timestamp) and the obsolete packet block (type 2). Name resolution, statistics, decryption
 * secrets and custom blocks are skipped silently; any other type is skipped with one non-fatal
 * UNKNOWN_BLOCK fault per type.
 *
 * PacketRecord.interfaceId is the interface's index over the whole file (sections included),
 * so it also indexes ReadSummary.linkTypes; in a one-section file it is the pcapng id.
 */
import { addFault, announceInterface, CAPLEN_CEILING, caplenBound, UnitReader, type ReadContext } from './unit-reader.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const IDB = 1;
const PB = 2;
const SPB = 3;
const EPB = 6;
/** Known blocks we have no use for: NRB, ISB, IRIG, ARINC, systemd journal, DSB, custom. */
const IGNORED = new Set([4, 5, 7, 8, 9, 10, 0x00000bad, 0x40000bad]);
const BLOCK_NAMES: Record<number, string> = { [PCAPNG_SHB]: 'section header', [IDB]: 'interface description', [PB]: 'packet', [SPB]: 'simple packet', [EPB]: 'enhanced packet' };

// Scratch results of div64 (no allocation per packet).
let qHi = 0;
let qLo = 0;
let qRem = 0;

/** (hi * 2^32 + lo) / d for d < 2^37, exactly, by long division on 16-bit digits. */
function div64(hi: number, lo: number, d: number): void {
  let x = hi >>> 16;
  const q3 = Math.floor(x / d);
  x = (x - q3 * d) * 65536 + (hi & 0xffff);
  const q2 = Math.floor(x / d);
  x = (x - q2 * d) * 65536 + (lo >>> 16);
  const q1 = Math.floor(x / d);
  x = (x - q1 * d) * 65536 + (lo & 0xffff);
  const q0 = Math.floor(x / d);
  qRem = x - q0 * d;
  qHi = q3 * 65536 + q2;
  qLo = q1 * 65536 + q0;
}

export class PcapngReader extends UnitReader {
  private le = true;
  private inSection = false;
  private ifBase = 0; // global index of this section's interface 0
  private ifCount = 0; // interfaces in this section
  private records = 0;
  private readonly blockLimit: number;
  private unknownSeen: Set<number> | null = null;
  // Per interface, indexed by global interface id.
  private readonly ifLink: number[] = [];
  private readonly ifSnap: number[] = [];
  private readonly ifBound: number[] = [];
  private readonly ifPow2: boolean[] = [];
  private readonly ifDiv: number[] = []; // 10^k (k <= 9) or 2^b
  private readonly ifPre: number[] = []; // 10^(k-9) for k > 9, else 1
  private readonly ifMul: number[] = []; // nanoseconds per unit of the remainder (10^(9-k))
  private readonly ifTsOff: number[] = [];

  constructor(ctx: ReadContext) {
    super(ctx);
    this.blockLimit = Math.max(CAPLEN_CEILING, ctx.maxCaplen) + 65536;
  }

  private u32(b: Buffer, o: number): number {
    return this.le ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }
  private u16(b: Buffer, o: number): number {
    return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }

  protected need(buf: Buffer, off: number, avail: number): number {
    if (avail < 12) return 12;
    let le = this.le;
    let type: number;
    if (buf.readUInt32LE(off) === PCAPNG_SHB) {
      type = PCAPNG_SHB;
      const bom = buf.readUInt32LE(off + 8);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else {
        this.fatal('BAD_BYTE_ORDER', `section header at byte ${this.offset}: byte-order magic ${buf.toString('hex', off + 8, off + 12)} is neither 1a2b3c4d nor 4d3c2b1a`);
        return -1;
      }
    } else {
      type = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    }
    const len = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    if (len < 12 || len % 4 !== 0 || len > this.blockLimit) {
      const known = type in BLOCK_NAMES || IGNORED.has(type);
      const why = len > this.blockLimit ? `is larger than ${this.blockLimit}` : len < 12 ? 'is below the 12-byte minimum' : 'is not a multiple of 4';
      this.fatal(known ? 'BAD_BLOCK_LENGTH' : 'GARBAGE', `${this.blockName(type)} at byte ${this.offset}: block length ${len} ${why}${known ? '' : ' (garbage after the valid part?)'}; the rest of the file is ignored`);
      return -1;
    }
    return len;
  }

  protected unit(buf: Buffer, off: number, len: number): boolean {
    const type = this.u32(buf, off); // the SHB type reads the same in both byte orders
    if (type === PCAPNG_SHB) return this.section(buf, off, len);
    if (this.u32(buf, off + len - 4) !== len) {
      return this.fatal('BAD_BLOCK_LENGTH', `${this.blockName(type)} at byte ${this.offset}: trailing length ${this.u32(buf, off + len - 4)} != leading length ${len}; the rest of the file is ignored`);
    }
    switch (type) {
      case EPB:
        if (len < 32) return this.tooShort(type, len, 32);
        return this.packet(buf, off, len, this.u32(buf, off + 8));
      case PB:
        if (len < 32) return this.tooShort(type, len, 32);
        return this.packet(buf, off, len, this.u16(buf, off + 8));
      case SPB:
        return this.simple(buf, off, len);
      case IDB:
        return this.iface(buf, off, len);
      default:
        if (!IGNORED.has(type)) this.unknown(type);
        return true;
    }
  }

  protected incomplete(buf: Buffer, have: number): void {
    const s = this.ctx.summary;
    const at = this.offset;
    if (!this.inSection) {
      addFault(s, 'TRUNCATED_HEADER', at, `the pcapng section header block at byte ${at} is cut short (${have} bytes); the file was cut short`, true);
      return;
    }
    if (have < 12) {
      addFault(s, 'TRUNCATED_RECORD', at, `block at byte ${at}: only ${have} of its 12-byte header remain; the capture was cut short`, false);
      return;
    }
    const type = this.u32(buf, 0);
    const len = this.u32(buf, 4);
    if ((type === EPB || type === PB) && have >= 28) {
      addFault(s, 'TRUNCATED_RECORD', at, `record ${this.records + 1} at byte ${at}: header says ${this.u32(buf, 20)} bytes, only ${have - 28} remain; the capture was cut short`, false);
      return;
    }
    addFault(s, 'TRUNCATED_RECORD', at, `${this.blockName(type)} at byte ${at}: block length ${len}, only ${have} bytes remain; the capture was cut short`, false);
  }

  private section(buf: Buffer, off: number, len: number): boolean {
    this.le = buf.readUInt32LE(off + 8) === BYTE_ORDER_MAGIC;
    if (this.u32(buf, off + len - 4) !== len) {
      return this.fatal('BAD_BLOCK_LENGTH', `section header at byte ${this.offset}: trailing length ${this.u32(buf, off + len - 4)} != leading length ${len}; the rest of the file is ignored`);
    }
    if (len < 28) return this.tooShort(PCAPNG_SHB, len, 28);
    const major = this.u16(buf, off + 12);
    if (major !== 1) {
      return this.fatal('UNSUPPORTED_VERSION', `section header at byte ${this.offset}: pcapng version ${major}.${this.u16(buf, off + 14)}; wirelab reads version 1.x; re-save it with \`editcap -F pcapng in out.pcapng\``);
    }
    this.inSection = true;
    this.ctx.summary.format = 'pcapng';
    this.ifBase = this.ifLink.length;
    this.ifCount = 0;
    return true;
  }

  private iface(buf: Buffer, off: number, len: number): boolean {
    if (!this.inSection) return this.fatal('GARBAGE', `block at byte ${this.offset} before any section header`);
    if (len < 20) return this.tooShort(IDB, len, 20);
    const linkType = this.u16(buf, off + 8);
    const snaplen = this.u32(buf, off + 12);
    let pow2 = false;
    let exp = 6;
    let tsOff = 0;
    const end = off + len - 4;
    for (let p = off + 16; p + 4 <= end; ) {
      const code = this.u16(buf, p);
      const olen = this.u16(buf, p + 2);
      p += 4;
      if (code === 0 || p + olen > end) break;
      if (code === 9 && olen >= 1) {
        const v = buf[p]!;
        pow2 = (v & 0x80) !== 0;
        exp = v & 0x7f;
      } else if (code === 14 && olen >= 8) {
        const hi = this.le ? buf.readInt32LE(p + 4) : buf.readInt32BE(p);
        const lo = this.le ? buf.readUInt32LE(p) : buf.readUInt32BE(p + 4);
        tsOff = hi * 4294967296 + lo;
      }
      p += (olen + 3) & ~3;
    }
    if ((pow2 && exp > 63) || (!pow2 && exp > 19)) {
      addFault(this.ctx.summary, 'BAD_OPTION', this.offset, `interface description at byte ${this.offset}: if_tsresol ${pow2 ? '2' : '10'}^-${exp} is out of range; microseconds assumed`, false);
      pow2 = false;
      exp = 6;
    }
    this.ifLink.push(linkType);
    this.ifSnap.push(snaplen);
    this.ifBound.push(caplenBound(snaplen, this.ctx.maxCaplen));
    this.ifPow2.push(pow2);
    this.ifDiv.push(pow2 ? 2 ** exp : 10 ** Math.min(exp, 9));
    this.ifPre.push(!pow2 && exp > 9 ? 10 ** (exp - 9) : 1);
    this.ifMul.push(!pow2 && exp <= 9 ? 10 ** (9 - exp) : 1);
    this.ifTsOff.push(tsOff);
    this.ifCount++;
    announceInterface(this.ctx, 'pcapng', linkType, snaplen, this.offset);
    return true;
  }

  /** EPB and the obsolete PB: ts at 12/16, caplen 20, len 24, data 28. */
  private packet(buf: Buffer, off: number, len: number, ifId: number): boolean {
    if (ifId >= this.ifCount) return this.noInterface(ifId);
    const g = this.ifBase + ifId;
    const caplen = this.u32(buf, off + 20);
    if (caplen > this.ifBound[g]!) {
      return this.fatal('ABSURD_CAPLEN', `record ${this.records + 1} at byte ${this.offset}: captured length ${caplen} > ${this.ifBound[g]} (snaplen ${this.ifSnap[g]} of interface ${g}, reader limit ${this.ctx.maxCaplen}); the rest of the file is ignored`);
    }
    if (caplen > len - 32) {
      return this.fatal('BAD_BLOCK_LENGTH', `record ${this.records + 1} at byte ${this.offset}: captured length ${caplen} does not fit in its ${len}-byte block; the rest of the file is ignored`);
    }
    const rec = this.ctx.rec;
    this.timestamp(g, this.u32(buf, off + 12), this.u32(buf, off + 16));
    rec.caplen = caplen;
    rec.origLen = this.u32(buf, off + 24);
    rec.chunk = buf;
    rec.offset = off + 28;
    return this.deliver(g);
  }

  private simple(buf: Buffer, off: number, len: number): boolean {
    if (len < 16) return this.tooShort(SPB, len, 16);
    if (this.ifCount === 0) return this.noInterface(0);
    const g = this.ifBase;
    const origLen = this.u32(buf, off + 8);
    const snap = this.ifSnap[g]!;
    let caplen = Math.min(origLen, len - 16);
    if (snap > 0 && snap < caplen) caplen = snap;
    const rec = this.ctx.rec;
    rec.tsSec = 0;
    rec.tsNsec = 0;
    rec.caplen = caplen;
    rec.origLen = origLen;
    rec.chunk = buf;
    rec.offset = off + 12;
    return this.deliver(g);
  }

  private deliver(g: number): boolean {
    const rec = this.ctx.rec;
    const n = ++this.records;
    rec.index = n;
    rec.linkType = this.ifLink[g]!;
    rec.interfaceId = g;
    rec.fileOffset = this.offset;
    this.ctx.summary.packets = n;
    this.ctx.sink.onRecord(rec);
    return true;
  }

  /** Units since the epoch, in the interface's resolution, into rec.tsSec / rec.tsNsec. */
  private timestamp(g: number, hi: number, lo: number): void {
    const rec = this.ctx.rec;
    const d = this.ifDiv[g]!;
    if (this.ifPow2[g]) {
      // Seconds = units / 2^b; the fraction, in a double, is exact enough for nanoseconds.
      let sec: number;
      let frac: number;
      if (d <= 4294967296) {
        const low = lo % d;
        sec = hi * (4294967296 / d) + (lo - low) / d;
        frac = low / d;
      } else {
        const hd = d / 4294967296;
        sec = Math.floor(hi / hd);
        frac = ((hi - sec * hd) * 4294967296 + lo) / d;
      }
      rec.tsSec = sec + this.ifTsOff[g]!;
      rec.tsNsec = Math.floor(frac * 1e9);
      return;
    }
    const pre = this.ifPre[g]!;
    if (pre !== 1) {
      div64(hi, lo, pre);
      hi = qHi;
      lo = qLo;
    }
    if (hi < 0x200000) {
      const u = hi * 4294967296 + lo; // < 2^53: exact
      const sec = Math.floor(u / d);
      rec.tsSec = sec + this.ifTsOff[g]!;
      rec.tsNsec = (u - sec * d) * this.ifMul[g]!;
      return;
    }
    div64(hi, lo, d);
    rec.tsSec = qHi * 4294967296 + qLo + this.ifTsOff[g]!;
    rec.tsNsec = qRem * this.ifMul[g]!;
  }

  private unknown(type: number): void {
    const seen = (this.unknownSeen ??= new Set());
    if (seen.has(type)) return;
    seen.add(type);
    addFault(this.ctx.summary, 'UNKNOWN_BLOCK', this.offset, `block type 0x${type.toString(16).padStart(8, '0')} at byte ${this.offset} is not one wirelab reads; skipped (and any more of this type)`, false);
  }

  private noInterface(ifId: number): false {
    return this.fatal('BAD_INTERFACE', `record ${this.records + 1} at byte ${this.offset}: interface ${ifId} was not described (the section has ${this.ifCount}); the rest of the file is ignored`);
  }

  private tooShort(type: number, len: number, min: number): false {
    return this.fatal('BAD_BLOCK_LENGTH', `${this.blockName(type)} at byte ${this.offset}: block length ${len} is below its ${min}-byte minimum; the rest of the file is ignored`);
  }

  private blockName(type: number): string {
    return `${BLOCK_NAMES[type] ?? 'block'} (type 0x${type.toString(16).padStart(8, '0')})`;
  }

  private fatal(code: string, message: string): false {
    addFault(this.ctx.summary, code, this.offset, message, true);
    return false;
  }
}
