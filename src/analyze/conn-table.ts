/**
 * The TCP flow table: connections as rows of CONN fields (src/analyze/conn-fields.ts) in shared
 * typed-array pages, found by 4-tuple without strings: a numeric hash of the address bytes and
 * ports, an open-addressing Int32Array of connection ids, an exact compare (IPv4 addresses as
 * two int32s, IPv6 as 32 kept bytes). Pages of PAGE rows each: growing never copies a row.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { SYN, ACK } from '../decode/packet.js';
import { formatAddress } from '../decode/address.js';
import { CONN } from './conn-fields.js';
import { bytesEqual } from './flow-key.js';
import { newPages } from './row-layout.js';

const { port: PORT, family: FAMILY, hash: HASH, addr4: ADDR4, firstTime: FIRST_TIME, lastTime: LAST_TIME } = CONN.at;
const NUM_SIZE = CONN.numSize;
const INT_SIZE = CONN.intSize;
const PAGE_BITS = 12;
const PAGE_MASK = (1 << PAGE_BITS) - 1;

/** Four bytes of b at off as an int32 (an IPv4 address; compared, never printed, in this form). */
function s32(b: Uint8Array, off: number): number {
  return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
}

export class ConnTable {
  /** Connection id's doubles: numPages[id >>> PAGE_BITS] from numAt(id). */
  private readonly numPages: Float64Array[] = [];
  private readonly intPages: Int32Array[] = [];
  /** IPv6 only: client address bytes then server address bytes (null for IPv4). */
  private readonly addr6: (Uint8Array | null)[] = [];
  private n = 0;
  /** Open addressing: id + 1 per slot (0 empty), probed linearly from hash & mask. */
  private slots = new Int32Array(1 << 12);
  private used = 0;
  /** Set by find(): the slot that holds the connection found, or the empty slot that ended the probe. */
  private slot = 0;
  /** Set by find() and add(): the side the packet was sent from (0 client, 1 server). */
  side: 0 | 1 = 0;
  /** IPv4 address texts (a capture has few distinct addresses). */
  private readonly v4Text = new Map<number, string>();

  get count(): number {
    return this.n;
  }
  nums(id: number): Float64Array {
    return this.numPages[id >>> PAGE_BITS]!;
  }
  numAt(id: number): number {
    return (id & PAGE_MASK) * NUM_SIZE;
  }
  ints(id: number): Int32Array {
    return this.intPages[id >>> PAGE_BITS]!;
  }
  intAt(id: number): number {
    return (id & PAGE_MASK) * INT_SIZE;
  }

  /** The connection p belongs to (its side in `side`), or -1. */
  find(p: DecodedPacket, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = hash & mask;
    for (;;) {
      const s = slots[i]!;
      if (s === 0) break;
      const id = s - 1;
      if (this.ints(id)[this.intAt(id) + HASH] === hash) {
        const side = this.sideOf(id, p);
        if (side >= 0) {
          this.slot = i;
          this.side = side as 0 | 1;
          return id;
        }
      }
      i = (i + 1) & mask;
    }
    this.slot = i;
    return -1;
  }

  /**
   * A new connection for p at the slot find() stopped at: the empty slot after a miss, or the
   * found connection's slot (a reused 4-tuple then leads to the new connection).
   */
  add(p: DecodedPacket, hash: number): number {
    const id = this.n++;
    if ((id & PAGE_MASK) === 0) {
      const page = newPages(CONN, 1 << PAGE_BITS); // every row already at its initial values
      this.numPages.push(page.num);
      this.intPages.push(page.int);
    }
    const num = this.nums(id);
    const numAt = this.numAt(id);
    const int = this.ints(id);
    const intAt = this.intAt(id);
    // The client sent the first SYN; a capture that starts with a SYN-ACK: its receiver.
    const synAck = (p.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    const clientAt = synAck ? p.dstOffset : p.srcOffset;
    const serverAt = synAck ? p.srcOffset : p.dstOffset;
    int[intAt + PORT] = synAck ? p.dstPort : p.srcPort;
    int[intAt + PORT + 1] = synAck ? p.srcPort : p.dstPort;
    int[intAt + HASH] = hash;
    if (p.addrLength === 4) {
      int[intAt + ADDR4] = s32(p.buf, clientAt);
      int[intAt + ADDR4 + 1] = s32(p.buf, serverAt);
      this.addr6.push(null);
    } else {
      const a = new Uint8Array(32);
      a.set(p.buf.subarray(clientAt, clientAt + 16), 0);
      a.set(p.buf.subarray(serverAt, serverAt + 16), 16);
      int[intAt + FAMILY] = 6;
      this.addr6.push(a);
    }
    num[numAt + FIRST_TIME] = p.t;
    num[numAt + LAST_TIME] = p.t;
    const wasEmpty = this.slots[this.slot] === 0;
    this.slots[this.slot] = id + 1;
    if (wasEmpty && ++this.used * 2 > this.slots.length) this.growSlots();
    this.side = synAck ? 1 : 0;
    return id;
  }

  /** 0 when p goes client -> server, 1 when server -> client, -1 when p is not connection id's. */
  private sideOf(id: number, p: DecodedPacket): number {
    const int = this.ints(id);
    const intAt = this.intAt(id);
    const cPort = int[intAt + PORT];
    const sPort = int[intAt + PORT + 1];
    if (p.addrLength === 4) {
      if (int[intAt + FAMILY] !== 4) return -1;
      const src = s32(p.buf, p.srcOffset);
      const dst = s32(p.buf, p.dstOffset);
      if (p.srcPort === cPort && p.dstPort === sPort && src === int[intAt + ADDR4] && dst === int[intAt + ADDR4 + 1]) return 0;
      if (p.srcPort === sPort && p.dstPort === cPort && src === int[intAt + ADDR4 + 1] && dst === int[intAt + ADDR4]) return 1;
      return -1;
    }
    const a6 = this.addr6[id];
    if (a6 == null) return -1;
    if (p.srcPort === cPort && p.dstPort === sPort && bytesEqual(p.buf, p.srcOffset, a6, 0, 16) && bytesEqual(p.buf, p.dstOffset, a6, 16, 16)) return 0;
    if (p.srcPort === sPort && p.dstPort === cPort && bytesEqual(p.buf, p.srcOffset, a6, 16, 16) && bytesEqual(p.buf, p.dstOffset, a6, 0, 16)) return 1;
    return -1;
  }

  private growSlots(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length - 1;
    for (let j = 0; j < old.length; j++) {
      const s = old[j]!;
      if (s === 0) continue;
      const id = s - 1;
      let i = this.ints(id)[this.intAt(id) + HASH]! & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = s;
    }
    this.slots = slots;
  }

  /** The capture ended: no more lookups (the slots are freed). */
  closeLookup(): void {
    this.slots = new Int32Array(1);
  }

  family(id: number): 4 | 6 {
    return this.addr6[id] == null ? 4 : 6;
  }

  /** The address of a side (0 client, 1 server) as text. */
  addressText(id: number, side: 0 | 1): string {
    const a6 = this.addr6[id];
    if (a6 != null) return formatAddress(a6, side * 16, 16);
    const a = this.ints(id)[this.intAt(id) + ADDR4 + side]! >>> 0;
    let text = this.v4Text.get(a);
    if (text === undefined) {
      text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
      if (this.v4Text.size < 65536) this.v4Text.set(a, text);
    }
    return text;
  }

  port(id: number, side: 0 | 1): number {
    return this.ints(id)[this.intAt(id) + PORT + side]!;
  }
}
