/**
 * The rarer link layers and encapsulations real traces carry: PPP (link types 9 and 50), PPPoE
 * sessions (Ethernet 0x8864, and link type 51 without the Ethernet header), Cisco HDLC (104),
 * FDDI (10) and 802.3 frames with 802.2 LLC/SNAP, NFLOG (239), IP over InfiniBand (242). Each
 * returns the offset of the IP header with p.etherType set to 0x0800 / 0x86dd, or -1: not IP
 * (LCP, ARP, STP...: not an error), cut short (`truncated`), or a header that lies (an error on
 * layer 'link'). Pure byte math, no allocation.
 */
import { ENCAP_LLC_SNAP, ENCAP_PPPOE } from './packet.js';
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';

const IPV4 = 0x0800;
const IPV6 = 0x86dd;
const PPPOE_SESSION = 0x8864;

function cut(p: DecodedPacket): number {
  p.truncated = true;
  return -1;
}

/** The IP header at `off` when `et` names IPv4 or IPv6; else -1 (not IP). */
function byEtherType(p: DecodedPacket, et: number, off: number): number {
  p.etherType = et;
  return et === IPV4 || et === IPV6 ? off : -1;
}

/** After an Ethernet (or SLL) ethertype that is neither IP nor a VLAN tag. */
export function afterOtherEtherType(p: DecodedPacket, off: number): number {
  const et = p.etherType;
  if (et === PPPOE_SESSION) return pppoeSession(p, off);
  if (et <= 1500) return llc(p, off); // an 802.3 length (or SLL's 0x0004), not a type: LLC follows
  return -1;
}

/**
 * PPP (RFC 1661): address 0xff and control 0x03 (RFC 1662 framing) unless compressed away, then
 * the protocol: one byte when compressed (odd first byte), else two. 0x21 IPv4, 0x57 IPv6.
 */
export function ppp(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  if (p.end < off + 2) return cut(p);
  if (buf[off] === 0xff && buf[off + 1] === 0x03) off += 2;
  if (p.end < off + 1) return cut(p);
  let proto = buf[off]!;
  if ((proto & 1) === 0) {
    if (p.end < off + 2) return cut(p);
    proto = (proto << 8) | buf[off + 1]!;
    off += 2;
  } else {
    off += 1;
  }
  if (proto === 0x21) return byEtherType(p, IPV4, off);
  if (proto === 0x57) return byEtherType(p, IPV6, off);
  p.etherType = 0;
  return -1; // LCP, IPCP, CHAP, compressed TCP/IP...: not decoded
}

/** PPPoE session header (RFC 2516): ver/type 0x11, code 0, session id, length; then PPP. */
export function pppoeSession(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  if (p.end < off + 6) return cut(p);
  if (buf[off] !== 0x11 || buf[off + 1] !== 0) {
    setError(p, 'link', 'BAD_PPPOE', `PPPoE session header with version/type 0x${hex2(buf[off]!)} and code 0x${hex2(buf[off + 1]!)} (a session frame has 0x11 and 0x00)`, off);
    return -1;
  }
  p.encap |= ENCAP_PPPOE;
  return ppp(p, off + 6);
}

/** 802.2 LLC at `off`: with SNAP (AA AA 03, OUI 000000 or 0000F8) the ethertype follows. */
function llc(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  if (p.end < off + 3) return -1; // too short for LLC: not IP either way
  if (buf[off] !== 0xaa || buf[off + 1] !== 0xaa || buf[off + 2] !== 0x03) return -1; // STP, IPX, NetBIOS...
  if (p.end < off + 8) return cut(p);
  if (buf[off + 3] !== 0 || buf[off + 4] !== 0 || (buf[off + 5] !== 0 && buf[off + 5] !== 0xf8)) return -1; // vendor OUI
  p.encap |= ENCAP_LLC_SNAP;
  return byEtherType(p, (buf[off + 6]! << 8) | buf[off + 7]!, off + 8);
}

/** FDDI: frame control (1), destination (6), source (6), then 802.2 LLC. */
export function fddi(p: DecodedPacket): number {
  if (p.end < 13) return cut(p);
  const fc = p.buf[0]!;
  if ((fc & 0xf8) !== 0x50) return -1; // SMT, MAC and token frames carry no LLC
  return llc(p, 13);
}

/** Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control 0, then an ethertype. */
export function cHdlc(p: DecodedPacket): number {
  const buf = p.buf;
  if (p.end < 4) return cut(p);
  return byEtherType(p, (buf[2]! << 8) | buf[3]!, 4);
}

/**
 * IP over InfiniBand as link type 242 carries it (and Wireshark reads it): a 40-byte pseudo-header
 * (the GRH of a received packet, or 20 zero bytes and the destination address of a sent one),
 * then RFC 4391's encapsulation header: an ethertype and two reserved bytes.
 */
export function ipoib(p: DecodedPacket): number {
  const buf = p.buf;
  if (p.end < 44) return cut(p);
  return byEtherType(p, (buf[40]! << 8) | buf[41]!, 44);
}

/**
 * NFLOG (Linux nfnetlink_log, `tcpdump -i nflog:N`): family (2 AF_INET, 10 AF_INET6), version 0,
 * resource id; then TLVs whose length and type are in the capturing host's byte order (length
 * counts the 4-byte TLV header, values padded to 4). Type 9 (NFULA_PAYLOAD) holds the packet
 * from its IP header on. Types are small numbers, so the non-zero byte of the first type tells
 * the byte order.
 */
export function nflog(p: DecodedPacket): number {
  const buf = p.buf;
  const n = p.end;
  if (n < 4) return cut(p);
  const family = buf[0]!;
  if (buf[1] !== 0) {
    setError(p, 'link', 'BAD_NFLOG', `NFLOG version ${buf[1]} (only version 0 exists)`, 1);
    return -1;
  }
  let off = 4;
  if (n < off + 4) return cut(p);
  const le = buf[off + 2] !== 0;
  while (off + 4 <= n) {
    const tlen = le ? buf[off]! | (buf[off + 1]! << 8) : (buf[off]! << 8) | buf[off + 1]!;
    const type = le ? buf[off + 2]! | (buf[off + 3]! << 8) : (buf[off + 2]! << 8) | buf[off + 3]!;
    if (tlen < 4) {
      setError(p, 'link', 'BAD_NFLOG', `NFLOG TLV of type ${type} with length ${tlen} (< 4)`, off);
      return -1;
    }
    if (type === 9) {
      const at = off + 4;
      if (family === 2) return byEtherType(p, IPV4, at);
      if (family === 10) return byEtherType(p, IPV6, at);
      if (n <= at) return cut(p);
      const v = buf[at]! >> 4; // AF_UNSPEC (bridge logging): the version nibble says
      return v === 4 ? byEtherType(p, IPV4, at) : v === 6 ? byEtherType(p, IPV6, at) : -1;
    }
    off += (tlen + 3) & ~3;
  }
  return off < n || p.caplen < p.origLen ? cut(p) : -1; // no payload TLV captured
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}
