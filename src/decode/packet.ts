/**
 * The decoded view of one captured packet. ONE object is allocated per reader and refilled for
 * every packet (gopacket's DecodingLayerParser idea): the hot path allocates nothing. Anything
 * that must outlive the callback (a segment kept for the text report) is copied out by the
 * analyzer. Addresses are offsets into `buf`; turn them into text with `formatAddress`
 * (src/decode/address.ts) only when a new connection or flow is created.
 */

/** TCP flag bits as they sit in byte 13 of the header, plus the AE/NS bit (byte 12, bit 0) as 0x100. */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;
export const AE = 0x100;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export const IPPROTO_IPIP = 4; // IPv4 in IP
export const IPPROTO_IPV6 = 41; // IPv6 in IP (6in4, 6to4, ISATAP, 6in6)
export const IPPROTO_GRE = 47;

/**
 * Encapsulations seen on the way to the innermost IP header: a bitmask on DecodedPacket.encap,
 * so the analyzer can note them on a connection without any per-packet allocation. Tunnels are
 * opened as Wireshark opens them: the addresses, ports and flags decoded are the innermost ones.
 */
export const ENCAP_VLAN = 1 << 0; // 802.1Q / 802.1ad tags
export const ENCAP_PPPOE = 1 << 1; // PPPoE session (ethertype 0x8864)
export const ENCAP_LLC_SNAP = 1 << 2; // 802.2 LLC + SNAP (802.3 length frames, FDDI)
export const ENCAP_IPIP = 1 << 3; // IPv4 carried in IP (protocol 4)
export const ENCAP_IP6IP = 1 << 4; // IPv6 carried in IP (protocol 41)
export const ENCAP_GRE = 1 << 5; // GRE (protocol 47), IP or Ethernet inside
export const ENCAP_VXLAN = 1 << 6; // VXLAN (UDP 4789), Ethernet inside
export const ENCAP_TEREDO = 1 << 7; // Teredo (UDP 3544), IPv6 inside
/** Any of the IP-level tunnels: the packet's outer IP header is not the one decoded. */
export const ENCAP_TUNNEL = ENCAP_IPIP | ENCAP_IP6IP | ENCAP_GRE | ENCAP_VXLAN | ENCAP_TEREDO;

const ENCAP_NAMES: [number, string][] = [
  [ENCAP_VLAN, 'vlan'], [ENCAP_PPPOE, 'pppoe'], [ENCAP_LLC_SNAP, 'llc-snap'], [ENCAP_IPIP, 'ip-in-ip'],
  [ENCAP_IP6IP, 'ipv6-in-ip'], [ENCAP_GRE, 'gre'], [ENCAP_VXLAN, 'vxlan'], [ENCAP_TEREDO, 'teredo'],
];

/** ["gre", "ipv6-in-ip"]: the names of the bits set, outermost kinds first (not the hot path). */
export function encapNames(mask: number): string[] {
  const names: string[] = [];
  for (const [bit, name] of ENCAP_NAMES) if (mask & bit) names.push(name);
  return names;
}

/**
 * 'tcp-option': the option space lies (a timestamps option of length 8) while the fixed TCP header
 * is intact: the segment is kept and tracked, the option marked malformed. 'tunnel': a GRE,
 * VXLAN or Teredo header that lies.
 */
export type DecodeLayer = 'link' | 'ipv4' | 'ipv6' | 'tcp' | 'tcp-option' | 'udp' | 'icmp' | 'icmpv6' | 'tunnel';

/** A header that lies (IHL < 5, data offset < 5, total length < header length, ...). */
export interface DecodeError {
  layer: DecodeLayer;
  code: string; // e.g. 'BAD_IHL', 'BAD_DATA_OFFSET', 'BAD_TOTAL_LENGTH', 'UNKNOWN_LINK_TYPE'
  message: string; // human words: "IPv4 IHL 3 (< 5)"
  offset: number; // byte offset inside the packet (from its first byte) where the lie sits
}

export interface TcpOptions {
  mss: number; // -1 when absent
  wscale: number; // -1 when absent
  sackPermitted: boolean;
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  sackCount: number; // number of SACK blocks (0..4)
  sack: Uint32Array; // [left0, right0, left1, right1, ...] length 8, first 2*sackCount valid
  tfoPresent: boolean; // kind 34 (or experimental 254/0xF989)
  tfoCookieOffset: number; // offset into buf; -1 when no cookie (a cookie request)
  tfoCookieLength: number;
  /** Options we do not interpret: kind and raw bytes offset/length into buf. Rare, so an array. */
  unknown: { kind: number; offset: number; length: number }[];
  unknownCount: number; // valid entries in `unknown` (array is reused)
  /** Offset into buf of the first malformed option (wrong length for its kind); -1 when none. Parsing stops there. */
  badOffset: number;
}

/** The header of the packet quoted inside an ICMP error (port unreachable, frag needed, ...). */
export interface QuotedHeader {
  present: boolean;
  net: 0 | 4 | 6;
  proto: number;
  srcOffset: number;
  dstOffset: number;
  ipId: number;
  srcPort: number; // -1 when not quoted far enough
  dstPort: number;
}

export interface DecodedPacket {
  // ---- the record ----
  index: number; // 1-based packet number in the capture (as Wireshark counts)
  tsSec: number; // absolute timestamp, seconds part
  tsNsec: number; // absolute timestamp, nanoseconds part
  /**
   * Seconds since the capture's first packet, set by the Analyzer (the decoder leaves it): the
   * per-packet analysis reads it here rather than taking it as an argument, since a double passed
   * to a function V8 does not inline is boxed into a new heap object at every call.
   */
  t: number;
  caplen: number;
  origLen: number;
  linkType: number;
  fileOffset: number; // byte offset of the record in the file / stream
  buf: Buffer; // holds the captured bytes, valid only during the callback: the frame is buf[start, end)
  start: number; // the frame's first byte in buf (a reader's chunk: the frame is decoded in place)
  end: number; // start + caplen: every offset below is into buf, and none reaches end

  // ---- outcome ----
  truncated: boolean; // snaplen cut a header or the payload short (not an error)
  error: DecodeError | null; // a header that lies; layers decoded before it stay valid

  // ---- network layer ----
  net: 0 | 4 | 6; // 0: not IP (ARP, unknown ethertype, ...)
  etherType: number;
  vlan: number; // outermost 802.1Q VLAN id, -1 when untagged
  encap: number; // ENCAP_* bits: VLAN, PPPoE, LLC/SNAP and the tunnels opened to reach the IP header below
  outerIpOffset: number; // the outermost IP header when a tunnel was opened (ENCAP_TUNNEL), else -1
  ipOffset: number;
  ipHeaderLength: number; // IPv4 IHL*4; IPv6 40 + extension headers
  ipTotalLength: number; // IPv4 total length; IPv6 40 + payload length
  addrLength: 4 | 16;
  srcOffset: number; // offset of the source address in buf
  dstOffset: number;
  ttl: number; // TTL or hop limit
  ipId: number; // IPv4 identification, or IPv6 fragment header identification (else 0)
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffset: number; // in bytes
  isFragment: boolean; // MF set or offset > 0 (IPv4), or an IPv6 fragment header present
  proto: number; // the upper-layer protocol after extension headers (6, 17, 1, 58, ...)

  // ---- transport ----
  l4Offset: number; // -1 when there is no transport header (a non-first fragment)
  srcPort: number;
  dstPort: number;
  /** Transport payload length taken from the IP/UDP length fields, not the captured length. */
  payloadLength: number;
  payloadOffset: number;

  // TCP
  seq: number; // unsigned 32-bit
  ack: number;
  tcpFlags: number; // FIN..CWR | AE
  window: number; // raw (unscaled) window field
  urgent: number;
  tcpHeaderLength: number;
  tcpOptions: TcpOptions;

  // UDP
  udpLength: number;

  // ICMP / ICMPv6
  icmpType: number;
  icmpCode: number;
  icmpMtu: number; // next-hop MTU (frag needed) / MTU (packet too big), else -1
  quoted: QuotedHeader;
}

export function newTcpOptions(): TcpOptions {
  return {
    mss: -1,
    wscale: -1,
    sackPermitted: false,
    hasTimestamps: false,
    tsVal: 0,
    tsEcr: 0,
    sackCount: 0,
    sack: new Uint32Array(8),
    tfoPresent: false,
    tfoCookieOffset: -1,
    tfoCookieLength: 0,
    unknown: [],
    unknownCount: 0,
    badOffset: -1,
  };
}

export function newDecodedPacket(): DecodedPacket {
  return {
    index: 0,
    tsSec: 0,
    tsNsec: 0,
    t: 0,
    caplen: 0,
    origLen: 0,
    linkType: 0,
    fileOffset: 0,
    buf: Buffer.alloc(0),
    start: 0,
    end: 0,
    truncated: false,
    error: null,
    net: 0,
    etherType: 0,
    vlan: -1,
    encap: 0,
    outerIpOffset: -1,
    ipOffset: -1,
    ipHeaderLength: 0,
    ipTotalLength: 0,
    addrLength: 4,
    srcOffset: -1,
    dstOffset: -1,
    ttl: 0,
    ipId: 0,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    isFragment: false,
    proto: -1,
    l4Offset: -1,
    srcPort: -1,
    dstPort: -1,
    payloadLength: 0,
    payloadOffset: -1,
    seq: 0,
    ack: 0,
    tcpFlags: 0,
    window: 0,
    urgent: 0,
    tcpHeaderLength: 0,
    tcpOptions: newTcpOptions(),
    udpLength: 0,
    icmpType: -1,
    icmpCode: -1,
    icmpMtu: -1,
    quoted: { present: false, net: 0, proto: -1, srcOffset: -1, dstOffset: -1, ipId: 0, srcPort: -1, dstPort: -1 },
  };
}
