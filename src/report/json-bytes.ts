/**
 * The inspect JSON's connection lines written as bytes: the streaming writer of src/report/json.ts
 * without a string per line, a concatenation per piece or a UTF-8 encoding pass at stdout (all of
 * its text is ASCII). A JsonBytes fills fixed-size Buffers and hands each one over whole; the
 * field order and spelling are tcpJson's, held to it field by field by
 * test/unit/report/json.test.ts through tcpJsonLine.
 */
import type { TcpConnection } from '../analyze/model.js';
import { endpointText } from '../endpoint.js';

/** An ASCII constant as its bytes (the JSON punctuation and keys between values). */
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

const K = {
  id: ascii('{"id":'),
  client: ascii(',"client":"'),
  server: ascii('","server":"'),
  packets: ascii('","packets":'),
  bytesClient: ascii(',"bytes":{"client":'),
  bytesServer: ascii(',"server":'),
  // A boolean between two keys: one constant for each value.
  completeTrue: ascii('},"handshake":{"complete":true,"clientIsn":'),
  completeFalse: ascii('},"handshake":{"complete":false,"clientIsn":'),
  serverIsn: ascii(',"serverIsn":'),
  synRetransmits: ascii(',"synRetransmits":'),
  synAckRetransmits: ascii(',"synAckRetransmits":'),
  rttMs: ascii(',"rttMs":'),
  resets: ascii(',"resets":'),
  null: ascii('null'),
};

/** "00" to "99": two decimal digits per division. */
const PAIRS = ascii(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));

/** Room for any number written (JSON.stringify's longest, "-1.2345678901234567e-308", is 24). */
const NUMBER_ROOM = 32;
/** Room for a connection's line but its tail: keys, the close verdict, 12 numbers, two IPv6 endpoints with ports. */
const LINE_ROOM = 1024;

/** Pieces at least this long are copied with TypedArray.set (a memcpy), shorter ones byte by byte. */
const SET_FROM = 12;

/** Bytes of numbers that are no integers (rare), by their text. */
const plain = new Map<string, Uint8Array>();
function plainBytes(s: string): Uint8Array {
  let b = plain.get(s);
  if (b === undefined) plain.set(s, (b = ascii(s)));
  return b;
}

/**
 * The bytes of a run of the line whose parts repeat together (the close verdict; the state
 * paths, start and encapsulations), found by the parts themselves in nested maps: no key is
 * built per line. The tracker shares its state path and encapsulation arrays; runs of parts it
 * does not share are made each time once SPANS_KEPT are kept.
 */
class Spans<A, B, C, D> {
  private readonly root = new Map<A, Map<B, Map<C, Map<D, Uint8Array>>>>();
  private kept = 0;

  constructor(private readonly make: (a: A, b: B, c: C, d: D) => string) {}

  get(a: A, b: B, c: C, d: D): Uint8Array {
    const bytes = this.root.get(a)?.get(b)?.get(c)?.get(d);
    return bytes ?? this.keep(a, b, c, d, ascii(this.make(a, b, c, d)));
  }

  private keep(a: A, b: B, c: C, d: D, bytes: Uint8Array): Uint8Array {
    if (this.kept >= SPANS_KEPT) return bytes;
    this.kept++;
    let mb = this.root.get(a);
    if (mb === undefined) this.root.set(a, (mb = new Map()));
    let mc = mb.get(b);
    if (mc === undefined) mb.set(b, (mc = new Map()));
    let md = mc.get(c);
    if (md === undefined) mc.set(c, (md = new Map()));
    md.set(d, bytes);
    return bytes;
  }
}
const SPANS_KEPT = 4096;

export class JsonBytes {
  private buf: Buffer;
  private pos = 0;
  /** From the close verdict to the retransmissions' value. */
  private readonly closeSpans = new Spans((kind: string, initiator: string | null, timeWait: string | null, _: null) =>
    `},"close":${JSON.stringify({ kind, initiator })},"timeWait":${JSON.stringify(timeWait)},"retransmissions":`);
  /** From the state paths to the end of the line. */
  private readonly tailSpans = new Spans((client: readonly string[], server: readonly string[], start: string, encapsulation: readonly string[]) =>
    `,"states":${JSON.stringify({ client, server })},"start":${JSON.stringify(start)},"encapsulation":${JSON.stringify(encapsulation)}}`);
  /** An endpoint's address as the bytes before its port: `10.0.0.1:` or `[fd00::1]:`. */
  private readonly hosts = new Map<string, Uint8Array>();

  constructor(private readonly size = 65536) {
    this.buf = Buffer.allocUnsafe(size);
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far, as a Buffer of their own; writing goes on in a new one. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.size);
    this.pos = 0;
    return out;
  }

  /**
   * Room for n more bytes (a full Buffer is handed over by take() before this is called). The
   * put* methods write without asking: their caller made room first.
   */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.put(b);
  }

  private put(b: Uint8Array): void {
    const n = b.length;
    if (n >= SET_FROM) {
      this.buf.set(b, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = b[i]!;
    this.pos = pos;
  }

  /** ASCII text (endpoints: digits, dots, hex, colons, brackets). */
  text(s: string): void {
    this.room(s.length);
    this.putText(s);
  }

  private putText(s: string): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /** Any text, as UTF-8 (the header: a file name may be anything). */
  utf8(s: string): void {
    this.room(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A non-negative integer below 2^53: two digits per division below 2^32 (above, a quotient of doubles may round up: String). */
  private putUint(x: number): void {
    const buf = this.buf;
    if (x < 10) {
      buf[this.pos++] = 48 + x;
      return;
    }
    if (x >= 4294967296) {
      this.putText(`${x}`);
      return;
    }
    const digits = x < 100 ? 2 : x < 1e3 ? 3 : x < 1e4 ? 4 : x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : x < 1e9 ? 9 : 10;
    let pos = this.pos + digits;
    this.pos = pos;
    while (x >= 100) {
      const q = Math.floor(x / 100);
      const r = (x - q * 100) * 2;
      buf[--pos] = PAIRS[r + 1]!;
      buf[--pos] = PAIRS[r]!;
      x = q;
    }
    if (x >= 10) {
      buf[--pos] = PAIRS[x * 2 + 1]!;
      buf[--pos] = PAIRS[x * 2]!;
    } else buf[--pos] = 48 + x;
  }

  /** Any number as JSON.stringify writes it (null when not finite). */
  num(x: number): void {
    this.room(NUMBER_ROOM);
    this.putNum(x);
  }

  private putNum(x: number): void {
    if (Number.isInteger(x) && x >= 0 && x < 9007199254740992) this.putUint(x);
    else this.put(plainBytes(Number.isFinite(x) ? `${x}` : 'null'));
  }

  private putNumOrNull(x: number | null): void {
    if (x === null) this.put(K.null);
    else this.putNum(x);
  }

  /**
   * A number of thousandths (Math.round(v * 1000) / 1000) as JSON.stringify writes it, without
   * a string: at most three decimals, trailing zeros dropped. The double nearest k / 1000 prints
   * as exactly those digits (no shorter decimal lies as close), so only huge values go through
   * String.
   */
  thousandths(x: number): void {
    this.room(NUMBER_ROOM);
    this.putThousandths(x);
  }

  private putThousandths(x: number): void {
    let k = Math.round(x * 1000);
    if (!(Math.abs(k) < 1e15)) {
      this.putText(Number.isFinite(x) ? `${x}` : 'null');
      return;
    }
    const buf = this.buf;
    if (k < 0) {
      buf[this.pos++] = 45; // '-'
      k = -k;
    }
    const whole = Math.floor(k / 1000);
    const frac = k - whole * 1000;
    this.putUint(whole);
    if (frac === 0) return;
    buf[this.pos++] = 46; // '.'
    const hundreds = Math.floor(frac / 100);
    const rest = frac - hundreds * 100;
    buf[this.pos++] = 48 + hundreds;
    if (rest === 0) return;
    buf[this.pos++] = PAIRS[rest * 2]!;
    if (rest % 10 !== 0) buf[this.pos++] = PAIRS[rest * 2 + 1]!;
  }

  /** An endpoint, as endpointText (src/endpoint.ts) spells it: the address's bytes (kept), then the port. */
  private putEndpoint(addr: string, port: number): void {
    let b = this.hosts.get(addr);
    if (b === undefined) {
      b = ascii(endpointText(addr, 0).slice(0, -1));
      if (this.hosts.size < 65536) this.hosts.set(addr, b);
    }
    this.put(b);
    this.putUint(port);
  }

  /**
   * JSON.stringify(tcpJson(c)), as bytes. `rttMs` is the handshake RTT rounded as tcpJson rounds
   * it (to the microsecond).
   */
  connection(c: TcpConnection, rttMs: number | null): void {
    const h = c.handshake;
    // All but the tail (paths and lists: bytes() makes its room) fits in LINE_ROOM.
    this.room(LINE_ROOM);
    this.put(K.id);
    this.putUint(c.id);
    this.put(K.client);
    this.putEndpoint(c.clientAddr, c.clientPort);
    this.put(K.server);
    this.putEndpoint(c.serverAddr, c.serverPort);
    this.put(K.packets);
    this.putUint(c.packets);
    this.put(K.bytesClient);
    this.putNum(c.bytes.client);
    this.put(K.bytesServer);
    this.putNum(c.bytes.server);
    this.put(h.complete ? K.completeTrue : K.completeFalse);
    this.putNumOrNull(h.clientIsn);
    this.put(K.serverIsn);
    this.putNumOrNull(h.serverIsn);
    this.put(K.synRetransmits);
    this.putUint(h.synRetransmits);
    this.put(K.synAckRetransmits);
    this.putUint(h.synAckRetransmits);
    this.put(K.rttMs);
    if (rttMs === null) this.put(K.null);
    else this.putThousandths(rttMs);
    this.put(this.closeSpans.get(c.close.kind, c.close.initiator, c.timeWait, null));
    this.putUint(c.retransmissions);
    this.put(K.resets);
    this.putUint(c.resets);
    this.bytes(this.tailSpans.get(c.statePath.client, c.statePath.server, c.start, c.encapsulation));
  }
}
