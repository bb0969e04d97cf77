/**
 * readCapture -> decodePacket (one reused DecodedPacket) -> Analyzer. Reader faults land in
 * Analysis.faults (everything before a fatal one is kept); decode errors are counted and the
 * first ones kept with their packet numbers and offsets.
 */
import type { Readable } from 'node:stream';
import { readCapture } from '../capture/read.js';
import { decodePacket } from '../decode/decode.js';
import { newDecodedPacket } from '../decode/packet.js';
import type { Analysis } from './model.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';

export type InspectOptions = AnalyzerOptions;

export async function inspectStream(input: Readable | NodeJS.ReadableStream, opts: InspectOptions): Promise<Analysis> {
  const analyzer = new Analyzer(opts);
  const p = newDecodedPacket();
  const summary = await readCapture(input, {
    onRecord(rec) {
      decodePacket(rec, p);
      analyzer.onPacket(p);
    },
  });
  return analyzer.finish(summary);
}
