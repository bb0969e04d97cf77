/**
 * The first N TCP connections of a capture with their segments kept, without keeping the segments
 * of the rest: for a report that draws N ladders of a trace with a million packets. Every packet
 * is decoded; TCP packets reach the analyzer until N distinct 4-tuples were seen, after that only
 * those of the admitted 4-tuples. Up to that moment the analyzer saw exactly what a full analysis
 * sees, and afterwards every packet of the connections that began before it, so connections
 * 0..N-1 (ids, segments, facts, times since the capture's first packet) are the full analysis'
 * own. Later connections on a reused 4-tuple, or on one whose hash collides, may follow them:
 * take the first N.
 */
import type { Readable } from 'node:stream';
import { readCapture } from '../capture/read.js';
import { decodePacket } from '../decode/decode.js';
import { IPPROTO_TCP, newDecodedPacket } from '../decode/packet.js';
import { Analyzer } from './analyzer.js';
import { hashPairUndirected } from './flow-key.js';
import type { Analysis, TcpConnection } from './model.js';

export async function firstConnections(input: Readable | NodeJS.ReadableStream, file: string, n: number): Promise<{ analysis: Analysis; tcp: TcpConnection[] }> {
  const analyzer = new Analyzer({ file, keepSegments: true });
  const p = newDecodedPacket();
  const admitted = new Set<number>();
  let open = true; // still admitting new 4-tuples
  const summary = await readCapture(input, {
    onRecord(rec) {
      decodePacket(rec, p);
      if (p.net !== 0 && p.srcOffset >= 0 && p.proto === IPPROTO_TCP && p.l4Offset >= 0) {
        const h = hashPairUndirected(p);
        if (!admitted.has(h)) {
          if (!open) return; // not one of the first N
          admitted.add(h);
          if (admitted.size >= n) open = false;
        }
      }
      analyzer.onPacket(p);
    },
  });
  const analysis = analyzer.finish(summary);
  return { analysis, tcp: analysis.tcp.slice(0, n) };
}
