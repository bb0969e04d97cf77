/**
 * The decoding pipeline: link → IPv4/IPv6 → TCP/UDP/ICMP/ICMPv6, into ONE reused DecodedPacket;
 * tunnels (IP in IP, GRE, VXLAN, Teredo) are opened and the innermost IP packet decoded.
 * Pure byte math, no allocation for a well-formed packet, no exceptions out: truncation is a
 * flag, a lying header an error value on the packet (earlier layers stay decoded), and anything
 * unexpected is caught here and turned into an error too.
 */
import type { PacketRecord } from './record.js';
import { newDecodedPacket, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP } from './packet.js';
import type { DecodedPacket } from './packet.js';
import { decodeLink, ETHERTYPE_IPV4 } from './link.js';
import { decodeIPv4 } from './ipv4.js';
import { decodeIPv6 } from './ipv6.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { decodeIcmp } from './icmp.js';
import { decodeIcmpv6 } from './icmpv6.js';
import { ipTunnel, TEREDO_PORT, udpTunnel, VXLAN_PORT } from './tunnel.js';

export function decodePacket(rec: PacketRecord, out: DecodedPacket): void {
  out.index = rec.index;
  out.tsSec = rec.tsSec;
  out.tsNsec = rec.tsNsec;
  out.caplen = rec.caplen;
  out.origLen = rec.origLen;
  out.linkType = rec.linkType;
  out.fileOffset = rec.fileOffset;
  out.buf = rec.chunk;
  out.start = rec.offset;
  out.end = rec.offset + rec.caplen;
  decodeFrame(out);
}

/** Decodes one frame into a fresh DecodedPacket (tests and tools; not the hot path). */
export function decodeBytes(linkType: number, bytes: Uint8Array, origLen: number = bytes.length): DecodedPacket {
  const p = newDecodedPacket();
  p.index = 1;
  p.linkType = linkType;
  p.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  p.caplen = bytes.length;
  p.origLen = origLen;
  decodeInto(p);
  return p;
}

/** Decodes the whole of p.buf (p.linkType, p.origLen set) into p, after resetting every decoded field. */
export function decodeInto(p: DecodedPacket): void {
  p.start = 0;
  p.end = p.buf.length;
  decodeFrame(p);
}

/** Tunnels opened inside one another at most this deep (a packet of nothing but tunnels is not worth a loop). */
const MAX_TUNNELS = 4;

/** Decodes the frame buf[start, end) (p.linkType, p.origLen set) into p, after resetting every decoded field. */
function decodeFrame(p: DecodedPacket): void {
  reset(p);
  try {
    let netOff = decodeLink(p);
    for (let depth = 0; netOff >= 0; depth++) {
      if (depth > 0) enterTunnel(p);
      const more = p.etherType === ETHERTYPE_IPV4 ? decodeIPv4(p, netOff) : decodeIPv6(p, netOff);
      if (!more) return;
      netOff = transport(p, depth < MAX_TUNNELS);
    }
  } catch (e) {
    // Last guard: a decoder bug must cost one packet, not the trace.
    if (p.error === null) {
      p.error = { layer: p.net === 0 ? 'link' : p.net === 4 ? 'ipv4' : 'ipv6', code: 'INTERNAL', message: `decoder fault: ${e instanceof Error ? e.message : String(e)}`, offset: 0 };
    }
  }
}

/**
 * Decodes the transport layer after the IP header just decoded. Returns the offset of an inner
 * IP header when the packet is a tunnel to open (`open`), else -1.
 */
function transport(p: DecodedPacket, open: boolean): number {
  const off = p.l4Offset;
  const len = p.ipOffset + p.ipTotalLength - off;
  switch (p.proto) {
    case IPPROTO_TCP:
      decodeTcp(p, off, len);
      return -1;
    case IPPROTO_UDP:
      decodeUdp(p, off, len);
      if (open && (p.dstPort === VXLAN_PORT || p.srcPort === VXLAN_PORT || p.dstPort === TEREDO_PORT || p.srcPort === TEREDO_PORT) && p.error === null && !p.isFragment) {
        const encap = p.encap;
        const et = p.etherType;
        const vlan = p.vlan;
        return tunnelOrBack(p, udpTunnel(p, p.payloadOffset), encap, et, vlan);
      }
      return -1;
    case IPPROTO_ICMP:
      if (p.net === 4) decodeIcmp(p, off, len);
      else otherProto(p, off, len);
      return -1;
    case IPPROTO_ICMPV6:
      if (p.net === 6) decodeIcmpv6(p, off, len);
      else otherProto(p, off, len);
      return -1;
    case IPPROTO_IPIP:
    case IPPROTO_IPV6:
    case IPPROTO_GRE:
      // A fragmented outer datagram is not opened: its inner packet is cut in pieces.
      otherProto(p, off, len);
      if (open && !p.isFragment) {
        const encap = p.encap;
        const et = p.etherType;
        const vlan = p.vlan;
        return tunnelOrBack(p, ipTunnel(p, off, len), encap, et, vlan);
      }
      return -1;
    default:
      otherProto(p, off, len);
      return -1;
  }
}

/**
 * `inner` is where a tunnel's inner IP header starts, or -1 when it holds no IP (ARP in VXLAN,
 * MPLS in GRE...): then the packet stays the outer one, as if the tunnel had not been looked into
 * (encapsulation bits, ethertype and VLAN as they were before).
 */
function tunnelOrBack(p: DecodedPacket, inner: number, encap: number, etherType: number, vlan: number): number {
  if (inner < 0) {
    p.encap = encap;
    p.etherType = etherType;
    p.vlan = vlan;
  }
  return inner;
}

/** Before the inner IP header is decoded: remember the outermost one, clear what the outer set. */
function enterTunnel(p: DecodedPacket): void {
  if (p.outerIpOffset < 0) p.outerIpOffset = p.ipOffset;
  clearFragmentAndPorts(p);
}

/** The fields an IP decoder leaves alone when its header says nothing of them (IPv6 without a fragment header). */
function clearFragmentAndPorts(p: DecodedPacket): void {
  p.ipId = 0;
  p.dontFragment = false;
  p.moreFragments = false;
  p.fragmentOffset = 0;
  p.isFragment = false;
  p.l4Offset = -1;
  p.srcPort = -1;
  p.dstPort = -1;
  p.payloadLength = 0;
  p.payloadOffset = -1;
  p.udpLength = 0;
}

/** SCTP, ESP, a tunnel not opened...: no transport header of ours; the IP payload is the payload. */
function otherProto(p: DecodedPacket, off: number, len: number): void {
  p.l4Offset = -1;
  p.payloadOffset = off;
  p.payloadLength = len;
  if (off + len > p.end) p.truncated = true;
}

function reset(p: DecodedPacket): void {
  p.truncated = false;
  p.error = null;
  p.net = 0;
  p.etherType = 0;
  p.vlan = -1;
  p.encap = 0;
  p.outerIpOffset = -1;
  p.ipOffset = -1;
  p.ipHeaderLength = 0;
  p.ipTotalLength = 0;
  p.addrLength = 4;
  p.srcOffset = -1;
  p.dstOffset = -1;
  p.ttl = 0;
  clearFragmentAndPorts(p);
  p.proto = -1;
  p.seq = 0;
  p.ack = 0;
  p.tcpFlags = 0;
  p.window = 0;
  p.urgent = 0;
  p.tcpHeaderLength = 0;
  const o = p.tcpOptions;
  o.mss = -1;
  o.wscale = -1;
  o.sackPermitted = false;
  o.hasTimestamps = false;
  o.tsVal = 0;
  o.tsEcr = 0;
  o.sackCount = 0;
  o.tfoPresent = false;
  o.tfoCookieOffset = -1;
  o.tfoCookieLength = 0;
  o.unknownCount = 0;
  o.badOffset = -1;
  p.icmpType = -1;
  p.icmpCode = -1;
  p.icmpMtu = -1;
  const q = p.quoted;
  if (q.present) {
    q.present = false;
    q.net = 0;
    q.proto = -1;
    q.srcOffset = -1;
    q.dstOffset = -1;
    q.ipId = 0;
    q.srcPort = -1;
    q.dstPort = -1;
  }
}
