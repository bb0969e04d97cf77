/**
 * Which datagrams the captures saw, by sequence number.
 * - The receiver's interface capture (tcpdump on lo / eth0: the tap runs before nftables'
 *   prerouting): a datagram whose first fragment (or whole packet) is there reached the receiving
 *   host. Later fragments carry no UDP header: they join the sequence number of the latest first
 *   fragment with the same IP ID, which gives the packets each datagram was cut into.
 * - The loss rule's NFLOG capture (tcpdump -i nflog:N, link type 239): exactly the packets the
 *   rule dropped, each resolved to its datagram the same way (by IP ID, at or before its time).
 * Per-packet work only: one reused DecodedPacket, typed arrays indexed by sequence number.
 */
import { readCaptureFile } from '../capture/read.js';
import type { PacketRecord } from '../capture/record.js';
import { decodeInto, decodePacket } from '../decode/decode.js';
import { LINKTYPE_RAW } from '../decode/link.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP, newDecodedPacket, type DecodedPacket } from '../decode/packet.js';
import { readSeq } from './payload.js';

export const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;

export interface InterfaceScan {
  packets: number; // every packet in the capture
  udpPackets: number; // UDP packets and fragments
  reached: Uint8Array; // per seq: copies of its first fragment (or whole datagram) seen
  fragments: Uint16Array; // per seq: packets it was carried in (1 when not fragmented)
  fragmentedDatagrams: number;
  icmpTimeExceeded: number;
  icmpUnreachable: number;
  /** ipId -> [time, seq] pairs in capture order, for resolving later fragments and NFLOG packets. */
  byIpId: Map<number, number[]>;
}

export interface NflogScan {
  packets: number; // packets the rule logged (= dropped)
  dropped: Uint16Array; // per seq: its packets the rule dropped
  unresolved: number; // logged packets that could not be tied to a datagram
}

function timeMs(p: DecodedPacket): number {
  return p.tsSec * 1000 + p.tsNsec / 1e6;
}

/** The seq of the latest first fragment with this IP ID at or before `t` (-1 if none). */
function seqByIpId(byIpId: Map<number, number[]>, ipId: number, t: number): number {
  const list = byIpId.get(ipId);
  if (!list) return -1;
  let seq = -1;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i]! > t + 0.001) break;
    seq = list[i + 1]!;
  }
  return seq;
}

export async function scanInterface(file: string, count: number, port: number): Promise<InterfaceScan> {
  const s: InterfaceScan = {
    packets: 0, udpPackets: 0, reached: new Uint8Array(count), fragments: new Uint16Array(count),
    fragmentedDatagrams: 0, icmpTimeExceeded: 0, icmpUnreachable: 0, byIpId: new Map(),
  };
  const p = newDecodedPacket();
  await readCaptureFile(file, {
    onRecord(rec: PacketRecord): void {
      s.packets++;
      decodePacket(rec, p);
      if (p.net === 0) return;
      if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) {
        if ((p.net === 4 && p.icmpType === 11) || (p.net === 6 && p.icmpType === 3)) s.icmpTimeExceeded++;
        else if ((p.net === 4 && p.icmpType === 3) || (p.net === 6 && p.icmpType === 1)) s.icmpUnreachable++;
        return;
      }
      if (p.proto !== IPPROTO_UDP) return;
      s.udpPackets++;
      const first = p.l4Offset >= 0 && p.srcPort >= 0;
      if (first) {
        if (p.dstPort !== port) return;
        const seq = readSeq(p.buf, p.payloadOffset, p.end - p.payloadOffset);
        if (seq < 0 || seq >= count) return;
        if (s.reached[seq]! < 255) s.reached[seq]!++;
        s.fragments[seq]!++;
        if (p.isFragment) {
          s.fragmentedDatagrams++;
          const list = s.byIpId.get(p.ipId);
          if (list) list.push(timeMs(p), seq);
          else s.byIpId.set(p.ipId, [timeMs(p), seq]);
        }
        return;
      }
      if (!p.isFragment) return;
      const seq = seqByIpId(s.byIpId, p.ipId, timeMs(p));
      if (seq >= 0 && s.fragments[seq]! < 65535) s.fragments[seq]!++;
    },
  }, { classicEngine: 'wirelab' });
  return s;
}

/** Point `p` at the IP packet inside an NFLOG record (the NFULA_PAYLOAD TLV); false if none. */
function nflogPayload(rec: PacketRecord, p: DecodedPacket): boolean {
  const d = rec.data;
  let off = 4; // family, version, resource id
  while (off + 4 <= d.length) {
    const len = d.readUInt16LE(off);
    const type = d.readUInt16LE(off + 2) & 0x7fff;
    if (len < 4) return false;
    if (type === NFULA_PAYLOAD) {
      const b = d.subarray(off + 4, Math.min(d.length, off + len));
      p.buf = b;
      p.linkType = LINKTYPE_RAW;
      p.caplen = b.length;
      // The rule logs a copy cut at the capture's snaplen: the packet's own length is in its IP header.
      const v = b.length > 0 ? b[0]! >> 4 : 0;
      const ipLen = v === 4 && b.length >= 4 ? b.readUInt16BE(2) : v === 6 && b.length >= 6 ? 40 + b.readUInt16BE(4) : 0;
      p.origLen = Math.max(b.length, ipLen);
      p.tsSec = rec.tsSec;
      p.tsNsec = rec.tsNsec;
      p.index = rec.index;
      return true;
    }
    off += (len + 3) & ~3;
  }
  return false;
}

export async function scanNflog(file: string, count: number, port: number, iface: InterfaceScan): Promise<NflogScan> {
  const s: NflogScan = { packets: 0, dropped: new Uint16Array(count), unresolved: 0 };
  const p = newDecodedPacket();
  await readCaptureFile(file, {
    onRecord(rec: PacketRecord): void {
      s.packets++;
      if (rec.linkType !== LINKTYPE_NFLOG || !nflogPayload(rec, p)) {
        s.unresolved++;
        return;
      }
      decodeInto(p);
      let seq = -1;
      if (p.proto === IPPROTO_UDP && p.l4Offset >= 0 && p.srcPort >= 0) {
        if (p.dstPort === port) seq = readSeq(p.buf, p.payloadOffset, p.end - p.payloadOffset);
      } else if (p.isFragment) {
        seq = seqByIpId(iface.byIpId, p.ipId, timeMs(p));
      }
      if (seq < 0 || seq >= count) {
        s.unresolved++;
        return;
      }
      if (s.dropped[seq]! < 65535) s.dropped[seq]!++;
    },
  }, { classicEngine: 'wirelab' });
  return s;
}
