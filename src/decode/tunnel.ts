/**
 * Tunnels, opened as Wireshark opens them so that a connection is keyed by its innermost
 * addresses: IPv4 / IPv6 in IP (protocols 4 and 41), GRE (47; IP inside, Ethernet inside with
 * 0x6558, PPP inside PPTP's enhanced GRE), VXLAN (UDP 4789; Ethernet inside), Teredo (UDP 3544;
 * IPv6 inside, after the optional authentication and origin-indication headers). Each returns
 * the offset of the inner IP header with p.etherType set and the ENCAP_ bit recorded, or -1 when
 * there is no IP inside (decode.ts then puts the outer packet's fields back). No allocation.
 */
import { ENCAP_GRE, ENCAP_IP6IP, ENCAP_IPIP, ENCAP_TEREDO, ENCAP_VXLAN, IPPROTO_GRE, IPPROTO_IPIP } from './packet.js';
import type { DecodedPacket } from './packet.js';
import { setError } from './errors.js';
import { afterEtherType } from './link.js';
import { ppp } from './link-more.js';

export const VXLAN_PORT = 4789;
export const TEREDO_PORT = 3544;

/** IP protocols 4, 41 and 47 at `off` (`len` bytes by the IP header). */
export function ipTunnel(p: DecodedPacket, off: number, len: number): number {
  if (p.proto === IPPROTO_IPIP) {
    p.encap |= ENCAP_IPIP;
    p.etherType = 0x0800;
    return off;
  }
  if (p.proto !== IPPROTO_GRE) {
    p.encap |= ENCAP_IP6IP;
    p.etherType = 0x86dd;
    return off;
  }
  return gre(p, off, len);
}

/**
 * GRE (RFC 2784 / 2890): flags and version, protocol, then checksum+reserved (C), key (K) and
 * sequence number (S) when flagged. Version 1 is PPTP's (RFC 2637): key always, acknowledgment
 * number with the A flag, PPP inside.
 */
function gre(p: DecodedPacket, off: number, len: number): number {
  const buf = p.buf;
  if (len < 4) {
    setError(p, 'tunnel', 'BAD_GRE', `GRE header needs 4 bytes, the IP payload has ${len}`, off);
    return -1;
  }
  if (p.end < off + 4) return cut(p);
  const fl = (buf[off]! << 8) | buf[off + 1]!;
  const version = fl & 7;
  const proto = (buf[off + 2]! << 8) | buf[off + 3]!;
  let h = 4;
  if (version === 0) {
    if (fl & 0x4000) return -1; // RFC 1701 source routing: not opened
    if (fl & 0x8000) h += 4;
    if (fl & 0x2000) h += 4;
    if (fl & 0x1000) h += 4;
  } else if (version === 1 && proto === 0x880b) {
    h = 8 + (fl & 0x1000 ? 4 : 0) + (fl & 0x0080 ? 4 : 0);
    if (len >= 8 && p.end >= off + 6 && ((buf[off + 4]! << 8) | buf[off + 5]!) === 0) return -1; // an ack alone
  } else {
    return -1;
  }
  if (len < h) {
    setError(p, 'tunnel', 'BAD_GRE', `GRE header of ${h} bytes (flags 0x${fl.toString(16)}) runs past the IP payload of ${len}`, off);
    return -1;
  }
  if (p.end < off + h) return cut(p);
  p.encap |= ENCAP_GRE;
  if (version === 1) return ppp(p, off + h);
  if (proto === 0x0800 || proto === 0x86dd) {
    p.etherType = proto;
    return off + h;
  }
  if (proto === 0x6558) return ethernet(p, off + h); // transparent Ethernet bridging (gretap, NVGRE)
  return -1;
}

/**
 * A UDP payload on the VXLAN or Teredo port (`off`: after the UDP header). Returns -1, and
 * leaves the packet as the UDP datagram it is, when the bytes are not that tunnel.
 */
export function udpTunnel(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  const end = off + p.payloadLength;
  if (end > p.end) return -1; // snaplen cut: keep the datagram
  if (p.dstPort === VXLAN_PORT || p.srcPort === VXLAN_PORT) {
    // flags (I bit 0x08), 3 reserved, VNI (3), 1 reserved; then an Ethernet frame.
    if (end < off + 8 + 14) return -1;
    p.encap |= ENCAP_VXLAN;
    return ethernet(p, off + 8);
  }
  // Teredo (RFC 4380): authentication (0x0001 ...) and origin indication (0x0000, 8 bytes) may precede the IPv6 header.
  let at = off;
  if (at + 2 <= end && buf[at] === 0 && buf[at + 1] === 1) {
    if (at + 4 > end) return -1;
    at += 4 + buf[at + 2]! + buf[at + 3]! + 9; // id length, auth length; nonce (8), confirmation (1)
  }
  if (at + 2 <= end && buf[at] === 0 && buf[at + 1] === 0) at += 8;
  // An IPv6 header whose payload length fills the datagram exactly, or these are other bytes on the port.
  if (at + 40 > end || buf[at]! >> 4 !== 6 || at + 40 + ((buf[at + 4]! << 8) | buf[at + 5]!) !== end) return -1;
  p.encap |= ENCAP_TEREDO;
  p.etherType = 0x86dd;
  return at;
}

/** An Ethernet frame inside a tunnel. */
function ethernet(p: DecodedPacket, off: number): number {
  const buf = p.buf;
  if (p.end < off + 14) return cut(p);
  p.etherType = (buf[off + 12]! << 8) | buf[off + 13]!;
  return afterEtherType(p, off + 14);
}

function cut(p: DecodedPacket): number {
  p.truncated = true;
  return -1;
}
