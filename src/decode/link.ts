/**
 * Link layer: find where the network header starts and which protocol it is, for every link
 * type a capture of ours (or a user's) is likely to carry. Switch on the pcap link type; never
 * assume Ethernet. Writes `etherType` and `vlan` on the packet and returns the network-layer
 * offset, or -1 when there is nothing IP to decode (non-IP ethertype: not an error; short frame:
 * `truncated`; unknown link type: an error on layer 'link').
 */
import { ENCAP_VLAN } from './packet.js';
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';
import { afterOtherEtherType, cHdlc, fddi, ipoib, nflog, ppp, pppoeSession } from './link-more.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101; // DLT_RAW is 12 on most BSDs and 14 on OpenBSD: old files carry those
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_PPP = 9;
export const LINKTYPE_FDDI = 10;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_PPP_ETHER = 51; // PPPoE header first, no Ethernet header
export const LINKTYPE_C_HDLC = 104;
export const LINKTYPE_NFLOG = 239;
export const LINKTYPE_IPOIB = 242;

/** Every link type decodeLink understands (the words for messages live in src/capture/link-types.ts). */
export const DECODED_LINK_TYPES: readonly number[] = [0, 1, 9, 10, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 239, 242, 276];

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100; // 802.1Q
export const ETHERTYPE_QINQ = 0x88a8; // 802.1ad
export const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard stacked tag
export const ETHERTYPE_PPPOE_SESSION = 0x8864;

/** Upper bound on stacked tags we walk (a frame of nothing but tags is not worth a loop). */
const MAX_VLAN_TAGS = 8;

/** Returns the offset of the network header (and sets p.etherType), or -1. */
export function decodeLink(p: DecodedPacket): number {
  const buf = p.buf;
  const s = p.start; // the frame's first byte: offsets below are into buf
  const n = p.end - s;
  switch (p.linkType) {
    case LINKTYPE_ETHERNET:
      if (n < 14) return short(p);
      return etherTypeAt(p, s + 12);
    case LINKTYPE_LINUX_SLL:
      // packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)
      if (n < 16) return short(p);
      return etherTypeAt(p, s + 14);
    case LINKTYPE_LINUX_SLL2:
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8)
      if (n < 20) return short(p);
      p.etherType = (buf[s]! << 8) | buf[s + 1]!;
      return afterEtherType(p, s + 20);
    case LINKTYPE_RAW:
    case 12:
    case 14:
      return rawIp(p, s);
    case LINKTYPE_IPV4:
      p.etherType = ETHERTYPE_IPV4;
      return s;
    case LINKTYPE_IPV6:
      p.etherType = ETHERTYPE_IPV6;
      return s;
    case LINKTYPE_NULL: {
      // A 4-byte address family in the byte order of the host that captured it. The families
      // are small numbers, so whichever end holds the non-zero byte tells the order.
      if (n < 4) return short(p);
      let family = buf[s]! | (buf[s + 1]! << 8) | (buf[s + 2]! << 16) | (buf[s + 3]! << 24);
      if ((family & 0xffff) === 0) family = buf[s + 3]! | (buf[s + 2]! << 8);
      return nullFamily(p, family);
    }
    case LINKTYPE_LOOP:
      if (n < 4) return short(p);
      return nullFamily(p, ((buf[s]! << 24) | (buf[s + 1]! << 16) | (buf[s + 2]! << 8) | buf[s + 3]!) >>> 0);
    // The rarer link layers read their headers at fixed offsets from 0: their frame gets its own view.
    case LINKTYPE_PPP:
    case LINKTYPE_PPP_HDLC:
      return ppp(ownFrame(p), 0);
    case LINKTYPE_PPP_ETHER:
      return pppoeSession(ownFrame(p), 0);
    case LINKTYPE_C_HDLC:
      return cHdlc(ownFrame(p));
    case LINKTYPE_FDDI:
      return fddi(ownFrame(p));
    case LINKTYPE_NFLOG:
      return nflog(ownFrame(p));
    case LINKTYPE_IPOIB:
      return ipoib(ownFrame(p));
    default:
      setError(p, 'link', 'UNKNOWN_LINK_TYPE', `link type ${p.linkType} is not one wirelab decodes (Ethernet 1, raw IP 101/228/229, Linux SLL 113/276, BSD NULL 0 / LOOP 108, PPP 9/50/51, Cisco HDLC 104, FDDI 10, NFLOG 239, IPoIB 242)`, s);
      return -1;
  }
}

/** p's frame as a Buffer of its own (start 0): for the rare link layers that read fixed offsets. */
function ownFrame(p: DecodedPacket): DecodedPacket {
  if (p.start !== 0 || p.end !== p.buf.length) {
    p.buf = p.buf.subarray(p.start, p.end);
    p.start = 0;
    p.end = p.buf.length;
  }
  return p;
}

export function short(p: DecodedPacket): number {
  p.truncated = true;
  return -1;
}

/** Reads the ethertype at `off` and walks stacked VLAN tags that follow it. */
function etherTypeAt(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  p.etherType = (buf[off]! << 8) | buf[off + 1]!;
  return afterEtherType(p, off + 2);
}

/** `off` is the first byte after the ethertype field just read into p.etherType. */
export function afterEtherType(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  let et = p.etherType;
  let tags = 0;
  while (et === ETHERTYPE_VLAN || et === ETHERTYPE_QINQ || et === ETHERTYPE_QINQ_OLD) {
    if (p.end < off + 4) return short(p);
    if (tags === 0) {
      p.vlan = ((buf[off]! << 8) | buf[off + 1]!) & 0x0fff;
      p.encap |= ENCAP_VLAN;
    }
    et = (buf[off + 2]! << 8) | buf[off + 3]!;
    off += 4;
    if (++tags >= MAX_VLAN_TAGS) break;
  }
  p.etherType = et;
  if (et === ETHERTYPE_IPV4 || et === ETHERTYPE_IPV6) return off;
  return afterOtherEtherType(p, off); // PPPoE, 802.3 + LLC/SNAP; ARP, LLDP, ...: not IP, not an error
}

function nullFamily(p: DecodedPacket, family: number): number {
  switch (family) {
    case 2: // AF_INET everywhere
      p.etherType = ETHERTYPE_IPV4;
      return p.start + 4;
    case 24: // AF_INET6 on NetBSD, OpenBSD, BSD/OS
    case 28: // FreeBSD, DragonFly
    case 30: // Darwin
      p.etherType = ETHERTYPE_IPV6;
      return p.start + 4;
    default:
      return -1; // another family (IPX, AppleTalk, ...): not IP, not an error
  }
}

/** Raw IP: the version nibble says which. */
export function rawIp(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  if (p.end <= off) return short(p);
  const version = buf[off]! >> 4;
  if (version === 4) p.etherType = ETHERTYPE_IPV4;
  else if (version === 6) p.etherType = ETHERTYPE_IPV6;
  else {
    setError(p, 'link', 'BAD_IP_VERSION', `raw IP packet with IP version ${version} (expected 4 or 6)`, off);
    return -1;
  }
  return off;
}
