/**
 * The inspect JSON's connection lines written as bytes: the streaming writer of src/report/json.ts
 * without a string per line, a concatenation per piece or a UTF-8 encoding pass at stdout (all of
 * its text is ASCII). A JsonBytes fills fixed-size Buffers and hands each one over whole; the
 * field order and spelling are tcpJson's, held to it field by field by
 * test/unit/report/json.test.ts through tcpJsonLine.
 */
import type { TcpConnection, TcpState } from '../analyze/model.js';
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
  kind: ascii('},"close":{"kind":"'),
  initiator: ascii('","initiator":'),
  timeWait: ascii('},"timeWait":'),
  retransmissions: ascii(',"retransmissions":'),
  resets: ascii(',"resets":'),
  statesClient: ascii(',"states":{"client":'),
  statesServer: ascii(',"server":'),
  start: ascii('},"start":"'),
  encapsulation: ascii('","encapsulation":'),
  end: ascii('}'),
  null: ascii('null'),
};

/** "00" to "99": two decimal digits per division. */
const PAIRS = ascii(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));

/** Room for any number written (JSON.stringify's longest, "-1.2345678901234567e-308", is 24). */
const NUMBER_ROOM = 32;
/** Room for a connection's line but its lists: keys, 12 numbers, two IPv6 endpoints with ports. */
const LINE_ROOM = 1024;

/** Pieces at least this long are copied with TypedArray.set (a memcpy), shorter ones byte by byte. */
const SET_FROM = 12;

/** Bytes of short texts that repeat (close kinds, sides, state paths, encapsulations). */
const quoted = new Map<string, Uint8Array>();
function quotedBytes(s: string): Uint8Array {
  let b = quoted.get(s);
  if (b === undefined) quoted.set(s, (b = ascii(`"${s}"`)));
  return b;
}
const plain = new Map<string, Uint8Array>();
function plainBytes(s: string): Uint8Array {
  let b = plain.get(s);
  if (b === undefined) plain.set(s, (b = ascii(s)));
  return b;
}

export class JsonBytes {
  private buf: Buffer;
  private pos = 0;
  /** State paths and encapsulation lists as bytes, by array (the tracker shares them). */
  private readonly lists = new Map<readonly string[], Uint8Array>();
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

  private list(list: readonly string[]): void {
    let b = this.lists.get(list);
    if (b === undefined) {
      b = ascii(JSON.stringify(list));
      if (this.lists.size < 4096) this.lists.set(list, b); // arrays not shared: not kept
    }
    this.bytes(b);
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
    // Everything but the lists fits in LINE_ROOM (keys, 12 numbers, two IPv6 endpoints).
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
    this.put(K.kind);
    this.put(plainBytes(c.close.kind));
    this.put(K.initiator);
    this.put(c.close.initiator === null ? K.null : quotedBytes(c.close.initiator));
    this.put(K.timeWait);
    this.put(c.timeWait === null ? K.null : quotedBytes(c.timeWait));
    this.put(K.retransmissions);
    this.putUint(c.retransmissions);
    this.put(K.resets);
    this.putUint(c.resets);
    this.put(K.statesClient);
    this.list(c.statePath.client as readonly TcpState[]);
    this.bytes(K.statesServer);
    this.list(c.statePath.server as readonly TcpState[]);
    this.bytes(K.start);
    this.bytes(plainBytes(c.start));
    this.bytes(K.encapsulation);
    this.list(c.encapsulation);
    this.bytes(K.end);
  }
}
