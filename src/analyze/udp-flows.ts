/**
 * UDP flows by direction (src, dst, ports), IP fragments grouped by (src, dst, proto, IP ID),
 * and ICMP error events.
 *
 * A fragmented datagram counts once, when its first fragment (offset 0, the one with the UDP
 * header) is seen; its bytes are the UDP length from that header. Later fragments carry no ports:
 * they join their group, and the group joins the flow of its first fragment whenever that shows
 * up (early or late). At the end, a group whose fragments do not cover [0, total) is incomplete;
 * a group whose first fragment never came cannot be given to a flow and is counted in
 * `orphanFragmentGroups`.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from '../decode/packet.js';
import { formatAddress } from '../decode/address.js';
import { endpointText } from '../endpoint.js';
import type { IcmpEvent, UdpFlow } from './model.js';
import { HashBuckets, bytesEqual, copyAddress, hashEndpoint, hashPairDirected } from './flow-key.js';

interface Flow {
  out: UdpFlow;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
}

/** The fragments of one datagram seen so far; forgotten once they cover it (only incomplete ones stay). */
interface FragGroup {
  hash: number; // fragHash, its key in UdpTracker.frags
  src: Uint8Array;
  dst: Uint8Array;
  proto: number;
  ipId: number;
  flow: Flow | null;
  total: number; // -1 until the last fragment (MF clear) is seen
  ranges: number[]; // [start, end, start, end, ...] of fragment payload bytes (covered() sorts them)
}

function sameFlow(f: Flow, p: DecodedPacket): boolean {
  const len = p.addrLength;
  return f.sport === p.srcPort && f.dport === p.dstPort && f.src.length === len &&
    bytesEqual(p.buf, p.srcOffset, f.src, 0, len) && bytesEqual(p.buf, p.dstOffset, f.dst, 0, len);
}

/** p is a fragment of g's datagram: same IP ID, protocol and addresses. */
function sameDatagram(g: FragGroup, p: DecodedPacket): boolean {
  const len = p.addrLength;
  return g.ipId === p.ipId && g.proto === p.proto && g.src.length === len && bytesEqual(p.buf, p.srcOffset, g.src, 0, len) && bytesEqual(p.buf, p.dstOffset, g.dst, 0, len);
}

function fragHash(p: DecodedPacket): number {
  const a = hashEndpoint(p.buf, p.srcOffset, p.addrLength, p.ipId);
  const b = hashEndpoint(p.buf, p.dstOffset, p.addrLength, p.proto);
  return (Math.imul(a, 31) + b) >>> 0;
}

/** The fragments cover [0, total): ranges sorted by start in place (a datagram has a few), no copy. */
function covered(g: FragGroup): boolean {
  if (g.total < 0) return false;
  const r = g.ranges;
  for (let i = 2; i < r.length; i += 2) {
    const s = r[i]!;
    const e = r[i + 1]!;
    let j = i - 2;
    for (; j >= 0 && r[j]! > s; j -= 2) {
      r[j + 2] = r[j]!;
      r[j + 3] = r[j + 1]!;
    }
    r[j + 2] = s;
    r[j + 3] = e;
  }
  let reach = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > reach) return false;
    if (r[i + 1]! > reach) reach = r[i + 1]!;
  }
  return reach >= g.total;
}

export class UdpTracker {
  private flows = new HashBuckets<Flow>();
  /** Datagrams whose fragments do not cover them yet. */
  private frags = new HashBuckets<FragGroup>();
  readonly list: Flow[] = [];
  readonly icmp: IcmpEvent[] = [];
  orphanFragmentGroups = 0;

  onPacket(p: DecodedPacket, t: number): void {
    if (p.proto === IPPROTO_UDP) this.onUdp(p, t);
    else if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) this.onIcmp(p, t);
  }

  private onUdp(p: DecodedPacket, t: number): void {
    const hasHeader = p.l4Offset >= 0 && p.srcPort >= 0;
    let flow: Flow | null = null;
    if (hasHeader) {
      flow = this.flow(p, t);
      flow.out.lastTime = t;
    }
    if (!p.isFragment) {
      if (flow === null) return;
      this.count(flow, p.udpLength > 8 ? p.udpLength - 8 : p.payloadLength);
      return;
    }
    const g = this.group(p, flow);
    const start = p.fragmentOffset;
    const end = start + (p.ipTotalLength - p.ipHeaderLength);
    g.ranges.push(start, end);
    if (!p.moreFragments) g.total = end;
    if (flow !== null && g.flow === null) g.flow = flow;
    if (flow !== null && start === 0) {
      flow.out.fragmented++;
      this.count(flow, p.udpLength > 8 ? p.udpLength - 8 : 0);
    }
    if (g.flow !== null && !flow) g.flow.out.lastTime = t;
    // Complete: a fragment with its IP ID after this starts a new datagram (the ID wrapped around).
    if (covered(g)) this.frags.remove(g.hash, g);
  }

  private count(flow: Flow, bytes: number): void {
    const o = flow.out;
    o.datagrams++;
    o.bytes += bytes;
    if (o.datagrams === 1 || bytes < o.sizes.min) o.sizes.min = bytes;
    if (bytes > o.sizes.max) o.sizes.max = bytes;
  }

  private flow(p: DecodedPacket, t: number): Flow {
    const h = hashPairDirected(p, IPPROTO_UDP);
    const len = p.addrLength;
    const b = this.flows.bucket(h);
    if (b !== undefined) {
      if (!Array.isArray(b)) {
        if (sameFlow(b, p)) return b;
      } else {
        for (let i = 0; i < b.length; i++) if (sameFlow(b[i]!, p)) return b[i]!;
      }
    }
    const src = formatAddress(p.buf, p.srcOffset, len);
    const dst = formatAddress(p.buf, p.dstOffset, len);
    const f: Flow = {
      out: {
        id: this.list.length,
        family: len === 4 ? 4 : 6,
        src: endpointText(src, p.srcPort),
        dst: endpointText(dst, p.dstPort),
        firstTime: t,
        lastTime: t,
        datagrams: 0,
        bytes: 0,
        fragmented: 0,
        incomplete: 0,
        sizes: { min: 0, max: 0 },
      },
      src: copyAddress(p.buf, p.srcOffset, len),
      dst: copyAddress(p.buf, p.dstOffset, len),
      sport: p.srcPort,
      dport: p.dstPort,
    };
    this.flows.put(h, f);
    this.list.push(f);
    return f;
  }

  private group(p: DecodedPacket, flow: Flow | null): FragGroup {
    const h = fragHash(p);
    const len = p.addrLength;
    const b = this.frags.bucket(h);
    if (b !== undefined) {
      if (!Array.isArray(b)) {
        if (sameDatagram(b, p)) return b;
      } else {
        for (let i = 0; i < b.length; i++) if (sameDatagram(b[i]!, p)) return b[i]!;
      }
    }
    const g: FragGroup = {
      hash: h,
      src: copyAddress(p.buf, p.srcOffset, len),
      dst: copyAddress(p.buf, p.dstOffset, len),
      proto: p.proto,
      ipId: p.ipId,
      flow,
      total: -1,
      ranges: [],
    };
    this.frags.put(h, g);
    return g;
  }

  private onIcmp(p: DecodedPacket, t: number): void {
    if (p.icmpType < 0 || p.srcOffset < 0) return;
    const v6 = p.proto === IPPROTO_ICMPV6;
    const type = p.icmpType;
    const code = p.icmpCode;
    const isError = v6 ? type < 128 : type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
    if (!isError) return;
    let kind: IcmpEvent['kind'] = 'other';
    if (!v6) {
      if (type === 3 && code === 3) kind = 'port-unreachable';
      else if (type === 3 && code === 4) kind = 'frag-needed';
      else if (type === 11 && code === 1) kind = 'reassembly-time-exceeded';
      else if (type === 11 && code === 0) kind = 'ttl-exceeded';
    } else {
      if (type === 1 && code === 4) kind = 'port-unreachable';
      else if (type === 2) kind = 'packet-too-big';
      else if (type === 3 && code === 1) kind = 'reassembly-time-exceeded';
      else if (type === 3 && code === 0) kind = 'ttl-exceeded';
    }
    const len = p.addrLength;
    const q = p.quoted;
    let quoted: string | null = null;
    if (q.present && q.srcOffset >= 0) {
      const qlen = q.net === 6 ? 16 : 4;
      const pname = q.proto === 17 ? 'udp' : q.proto === 6 ? 'tcp' : `proto ${q.proto}`;
      const ep = (off: number, port: number): string => {
        const a = formatAddress(p.buf, off, qlen);
        return port < 0 ? a : endpointText(a, port);
      };
      quoted = `${pname} ${ep(q.srcOffset, q.srcPort)} > ${ep(q.dstOffset, q.dstPort)} id ${q.ipId}`;
    }
    this.icmp.push({
      packet: p.index,
      time: t,
      family: len === 4 ? 4 : 6,
      from: formatAddress(p.buf, p.srcOffset, len),
      to: formatAddress(p.buf, p.dstOffset, len),
      kind,
      type,
      code,
      mtu: p.icmpMtu >= 0 ? p.icmpMtu : null,
      quoted,
    });
  }

  finish(): UdpFlow[] {
    for (const g of this.frags.values()) {
      if (g.flow !== null) g.flow.out.incomplete++;
      else this.orphanFragmentGroups++;
    }
    return this.list.map((f) => f.out);
  }
}
