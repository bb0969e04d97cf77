/**
 * What one experiment's datagrams looked like on the wire, read back from its capture: how many IP
 * packets carried them, how many of those had IPv4's DF bit set, how many were fragments (IPv4
 * MF/offset, or an IPv6 fragment header), and the largest IP packet. Read in a lab's run() (the
 * judge is synchronous) and handed to the judge with ctx.mark.
 */
import { readCaptureFile } from '../../src/capture/read.js';
import type { PacketRecord } from '../../src/capture/record.js';
import { decodePacket } from '../../src/decode/decode.js';
import { IPPROTO_UDP, newDecodedPacket } from '../../src/decode/packet.js';

export interface WireShape {
  packets: number; // IP packets carrying UDP (fragments included)
  dontFragment: number; // of those, IPv4 packets with DF set
  fragments: number; // of those, fragments
  largestIp: number; // the largest IP packet, bytes (header included)
  firstFragmentData: number; // payload bytes after the IP headers in the largest first fragment (0: none)
}

export async function wireShape(file: string): Promise<WireShape> {
  const s: WireShape = { packets: 0, dontFragment: 0, fragments: 0, largestIp: 0, firstFragmentData: 0 };
  const p = newDecodedPacket();
  await readCaptureFile(file, {
    onRecord(rec: PacketRecord): void {
      decodePacket(rec, p);
      if (p.net === 0 || p.proto !== IPPROTO_UDP) return;
      s.packets++;
      if (p.dontFragment) s.dontFragment++;
      if (p.isFragment) {
        s.fragments++;
        if (p.fragmentOffset === 0) s.firstFragmentData = Math.max(s.firstFragmentData, p.ipTotalLength - p.ipHeaderLength);
      }
      if (p.ipTotalLength > s.largestIp) s.largestIp = p.ipTotalLength;
    },
  });
  return s;
}
