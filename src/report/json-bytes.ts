/**
 * The inspect JSON's connection lines written as bytes: the streaming writer of src/report/json.ts
 * without a string per line, a concatenation per piece or a UTF-8 encoding pass at stdout (all of
 * its text is ASCII). A JsonBytes fills fixed-size Buffers and hands each one over whole; the
 * field order and spelling are tcpJson's, held to it field by field by
 * test/unit/report/json.test.ts through tcpJsonLine.
 */
import type { TcpConnection, TcpState } from '../analyze/model.js';

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
  complete: ascii('},"handshake":{"complete":'),
  clientIsn: ascii(',"clientIsn":'),
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
  true: ascii('true'),
  false: ascii('false'),
  null: ascii('null'),
};

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

  /** Room for n more bytes (a full Buffer is handed over by take() before this is called). */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < b.length; i++) buf[pos++] = b[i]!;
    this.pos = pos;
  }

  /** ASCII text (endpoints: digits, dots, hex, colons, brackets). */
  text(s: string): void {
    this.room(s.length);
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

  /** A non-negative integer below 2^53, in decimal. */
  uint(x: number): void {
    this.room(16);
    const buf = this.buf;
    if (x < 10) {
      buf[this.pos++] = 48 + x;
      return;
    }
    let digits = 0;
    for (let y = x; y >= 1; y = Math.floor(y / 10)) digits++;
    let pos = this.pos + digits;
    this.pos = pos;
    while (x >= 1) {
      const q = Math.floor(x / 10);
      buf[--pos] = 48 + (x - q * 10);
      x = q;
    }
  }

  /** Any number as JSON.stringify writes it (null when not finite). */
  num(x: number): void {
    if (Number.isInteger(x) && x >= 0 && x < 9007199254740992) this.uint(x);
    else this.bytes(plainBytes(Number.isFinite(x) ? `${x}` : 'null'));
  }

  private numOrNull(x: number | null): void {
    if (x === null) this.bytes(K.null);
    else this.num(x);
  }

  private bool(x: boolean): void {
    this.bytes(x ? K.true : K.false);
  }

  private quotedOrNull(x: string | null): void {
    this.bytes(x === null ? K.null : quotedBytes(x));
  }

  private list(list: readonly string[]): void {
    let b = this.lists.get(list);
    if (b === undefined) {
      b = ascii(JSON.stringify(list));
      if (this.lists.size < 4096) this.lists.set(list, b); // arrays not shared: not kept
    }
    this.bytes(b);
  }

  /** JSON.stringify(tcpJson(c)), as bytes. `rttMs` is the handshake RTT rounded as tcpJson rounds it. */
  connection(c: TcpConnection, rttMs: number | null): void {
    const h = c.handshake;
    this.bytes(K.id);
    this.uint(c.id);
    this.bytes(K.client);
    this.text(c.client);
    this.bytes(K.server);
    this.text(c.server);
    this.bytes(K.packets);
    this.uint(c.packets);
    this.bytes(K.bytesClient);
    this.num(c.bytes.client);
    this.bytes(K.bytesServer);
    this.num(c.bytes.server);
    this.bytes(K.complete);
    this.bool(h.complete);
    this.bytes(K.clientIsn);
    this.numOrNull(h.clientIsn);
    this.bytes(K.serverIsn);
    this.numOrNull(h.serverIsn);
    this.bytes(K.synRetransmits);
    this.uint(h.synRetransmits);
    this.bytes(K.synAckRetransmits);
    this.uint(h.synAckRetransmits);
    this.bytes(K.rttMs);
    this.numOrNull(rttMs);
    this.bytes(K.kind);
    this.bytes(plainBytes(c.close.kind));
    this.bytes(K.initiator);
    this.quotedOrNull(c.close.initiator);
    this.bytes(K.timeWait);
    this.quotedOrNull(c.timeWait);
    this.bytes(K.retransmissions);
    this.uint(c.retransmissions);
    this.bytes(K.resets);
    this.uint(c.resets);
    this.bytes(K.statesClient);
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
