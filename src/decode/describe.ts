/**
 * A tcpdump-like one-line description of a decoded packet, for error messages, expectation
 * failures and fixtures. Sequence numbers are absolute (as `tcpdump -S` prints them). Not the
 * hot path: it builds strings freely.
 */
import { ACK, AE, CWR, ECE, ENCAP_PPPOE, ENCAP_TUNNEL, FIN, PSH, RST, SYN, URG, encapNames } from './packet.js';
import type { DecodedPacket } from './packet.js';
import { formatAddress } from './address.js';

const FLAG_LETTERS: [number, string][] = [
  [FIN, 'F'], [SYN, 'S'], [RST, 'R'], [PSH, 'P'], [ACK, '.'], [URG, 'U'], [ECE, 'E'], [CWR, 'W'], [AE, 'e'],
];

export function tcpFlagsText(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) s += letter;
  return s === '' ? 'none' : s;
}

export function describePacket(p: DecodedPacket): string {
  let s = p.vlan >= 0 ? `vlan ${p.vlan}, ` : '';
  if (p.encap & ENCAP_PPPOE) s += 'PPPoE, ';
  if (p.outerIpOffset >= 0) s += outerText(p);
  if (p.net === 0) {
    if (p.error === null && p.etherType !== 0) s += `ethertype ${etherTypeName(p.etherType)}, length ${p.origLen}`;
    else if (p.error === null) s += `link type ${p.linkType}, length ${p.origLen}`;
    return (s + tail(p)).trimStart();
  }
  const b = p.buf;
  const src = formatAddress(b, p.srcOffset, p.addrLength);
  const dst = formatAddress(b, p.dstOffset, p.addrLength);
  s += p.net === 4 ? 'IP ' : 'IP6 ';
  const frag = p.isFragment ? ` (frag ${p.ipId}:${p.ipTotalLength - p.ipHeaderLength}@${p.fragmentOffset}${p.moreFragments ? '+' : ''})` : '';
  const ports = p.srcPort >= 0 && (p.proto === 6 || p.proto === 17);
  s += ports ? `${src}.${p.srcPort} > ${dst}.${p.dstPort}: ` : `${src} > ${dst}: `;
  if (p.l4Offset < 0) {
    s += `ip-proto-${p.proto}`;
    if (p.payloadLength > 0 || p.isFragment) s += `, length ${p.payloadLength}`;
    return s + frag + tail(p);
  }
  switch (p.proto) {
    case 6:
      s += describeTcp(p);
      break;
    case 17:
      s += p.udpLength === 0 ? 'UDP' : `UDP, length ${p.udpLength - 8}`;
      break;
    case 1:
      s += describeIcmp(p);
      break;
    case 58:
      s += describeIcmpv6(p);
      break;
    default:
      s += `ip-proto-${p.proto}, length ${p.payloadLength}`;
  }
  return s + frag + tail(p);
}

/** "IP 10.9.0.1 > 10.9.0.2: gre: ": the outermost IP header of a tunnelled packet and the tunnels opened. */
function outerText(p: DecodedPacket): string {
  const o = p.outerIpOffset;
  const v6 = p.buf[o]! >> 4 === 6;
  const src = formatAddress(p.buf, o + (v6 ? 8 : 12), v6 ? 16 : 4);
  const dst = formatAddress(p.buf, o + (v6 ? 24 : 16), v6 ? 16 : 4);
  return `${v6 ? 'IP6' : 'IP'} ${src} > ${dst}: ${encapNames(p.encap & ENCAP_TUNNEL).join(', ')}: `;
}

function tail(p: DecodedPacket): string {
  let s = '';
  if (p.truncated) s += ' [truncated]';
  if (p.error) s += ` [bad ${p.error.layer} at byte ${p.error.offset}: ${p.error.message}]`;
  return s;
}

function etherTypeName(et: number): string {
  const hex = `0x${et.toString(16).padStart(4, '0')}`;
  if (et === 0x0806) return `ARP (${hex})`;
  if (et < 0x0600) return `802.3 length ${et}`;
  return hex;
}

function describeTcp(p: DecodedPacket): string {
  if (p.tcpHeaderLength === 0) return 'tcp';
  let s = `Flags [${tcpFlagsText(p.tcpFlags)}]`;
  // Like tcpdump: a pure ACK shows no sequence number.
  if (p.payloadLength > 0 || p.tcpFlags & (SYN | FIN | RST)) s += `, seq ${p.seq}`;
  if (p.payloadLength > 0) s += `:${(p.seq + p.payloadLength) >>> 0}`;
  if (p.tcpFlags & ACK) s += `, ack ${p.ack}`;
  s += `, win ${p.window}`;
  if (p.tcpFlags & URG) s += `, urg ${p.urgent}`;
  if (p.tcpHeaderLength > 20) s += `, options [${tcpOptionsText(p)}]`;
  return p.payloadOffset < 0 ? s : s + `, length ${p.payloadLength}`; // no length when the header lied
}

/** The options in wire order, as tcpdump prints them. */
export /** Lengths tcpdump requires for the options it prints field by field. */
const FIXED_OPTION_LENGTH: Record<number, number> = { 2: 4, 3: 3, 4: 2, 8: 10 };

function tcpOptionsText(p: DecodedPacket): string {
  const b = p.buf;
  const start = p.l4Offset + 20;
  const end = Math.min(p.l4Offset + p.tcpHeaderLength, p.end);
  const parts: string[] = [];
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    if (kind === 0) {
      parts.push('eol');
      break;
    }
    if (kind === 1) {
      parts.push('nop');
      i++;
      continue;
    }
    const len = i + 1 < end ? b[i + 1]! : 0;
    // A known kind with the wrong length is as bad as a length past the header (the decoder says
    // BAD_OPTION): print it as such rather than read its fields out of bounds.
    const want = FIXED_OPTION_LENGTH[kind];
    if (len < 2 || i + len > end || (want !== undefined && len !== want) || (kind === 5 && (len - 2) % 8 !== 0)) {
      parts.push(`bad opt ${kind}`);
      break;
    }
    const u32 = (o: number) => b.readUInt32BE(o);
    switch (kind) {
      case 2:
        parts.push(`mss ${b.readUInt16BE(i + 2)}`);
        break;
      case 3:
        parts.push(`wscale ${b[i + 2]}`);
        break;
      case 4:
        parts.push('sackOK');
        break;
      case 5: {
        const blocks: string[] = [];
        for (let o = i + 2; o + 8 <= i + len; o += 8) blocks.push(`{${u32(o)}:${u32(o + 4)}}`);
        parts.push(`sack ${blocks.length} ${blocks.join('')}`);
        break;
      }
      case 8:
        parts.push(`TS val ${u32(i + 2)} ecr ${u32(i + 6)}`);
        break;
      case 34:
        parts.push(len === 2 ? 'tfo  cookiereq' : `tfo  cookie ${b.subarray(i + 2, i + len).toString('hex')}`);
        break;
      case 254:
        if (len >= 4 && b[i + 2] === 0xf9 && b[i + 3] === 0x89) {
          parts.push(len === 4 ? 'exp-tfo  cookiereq' : `exp-tfo  cookie ${b.subarray(i + 4, i + len).toString('hex')}`);
        } else {
          parts.push(`unknown-${kind} 0x${b.subarray(i + 2, i + len).toString('hex')}`);
        }
        break;
      default:
        parts.push(`unknown-${kind} 0x${b.subarray(i + 2, i + len).toString('hex')}`);
    }
    i += len;
  }
  return parts.join(',');
}

function describeIcmp(p: DecodedPacket): string {
  const t = p.icmpType;
  const c = p.icmpCode;
  const q = p.quoted;
  const len = `, length ${p.ipTotalLength - p.ipHeaderLength}`;
  if (t === 0 || t === 8) {
    const b = p.buf;
    const o = p.l4Offset;
    const idSeq = o + 8 <= b.length ? `, id ${b.readUInt16BE(o + 4)}, seq ${b.readUInt16BE(o + 6)}` : '';
    return `ICMP echo ${t === 8 ? 'request' : 'reply'}${idSeq}${len}`;
  }
  const qdst = q.present ? formatAddress(p.buf, q.dstOffset, q.net === 6 ? 16 : 4) : '?';
  const qproto = q.proto === 6 ? 'tcp' : q.proto === 17 ? 'udp' : `proto ${q.proto}`;
  if (t === 3) {
    if (c === 3) return `ICMP ${qdst} ${qproto} port ${q.dstPort >= 0 ? q.dstPort : '?'} unreachable${len}`;
    if (c === 4) return `ICMP ${qdst} unreachable - need to frag (mtu ${p.icmpMtu})${len}`;
    if (c === 1) return `ICMP host ${qdst} unreachable${len}`;
    if (c === 2) return `ICMP ${qdst} protocol ${q.proto} unreachable${len}`;
    return `ICMP ${qdst} unreachable code ${c}${len}`;
  }
  if (t === 11) return c === 1 ? `ICMP ip reassembly time exceeded${len}` : `ICMP time exceeded in-transit${len}`;
  return `ICMP type-#${t} code ${c}${len}`;
}

function describeIcmpv6(p: DecodedPacket): string {
  const t = p.icmpType;
  const c = p.icmpCode;
  const q = p.quoted;
  const len = `, length ${p.ipTotalLength - p.ipHeaderLength}`;
  const qdst = q.present ? formatAddress(p.buf, q.dstOffset, q.net === 6 ? 16 : 4) : '?';
  const qproto = q.proto === 6 ? 'tcp' : q.proto === 17 ? 'udp' : `proto ${q.proto}`;
  switch (t) {
    case 1:
      if (c === 4) return `ICMP6, destination unreachable, unreachable port, ${qdst} ${qproto} port ${q.dstPort >= 0 ? q.dstPort : '?'}${len}`;
      return `ICMP6, destination unreachable, code ${c}, ${qdst}${len}`;
    case 2:
      return `ICMP6, packet too big, mtu ${p.icmpMtu}${len}`;
    case 3:
      if (c === 1) return `ICMP6, time exceeded in-transit (reassembly)${len}`;
      return `ICMP6, time exceeded in-transit${q.present ? ` for ${qdst}` : ''}${len}`;
    case 128:
    case 129: {
      const b = p.buf;
      const o = p.l4Offset;
      const idSeq = o + 8 <= b.length ? `, id ${b.readUInt16BE(o + 4)}, seq ${b.readUInt16BE(o + 6)}` : '';
      return `ICMP6, echo ${t === 128 ? 'request' : 'reply'}${idSeq}${len}`;
    }
    case 135:
      return `ICMP6, neighbor solicitation${len}`;
    case 136:
      return `ICMP6, neighbor advertisement${len}`;
    default:
      return `ICMP6, type ${t} code ${c}${len}`;
  }
}
