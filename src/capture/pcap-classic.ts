/**
 * Classic little-endian microsecond pcap through pcap-parser 0.2.1 (the user's choice).
 *
 * What pcap-parser does with bad input (read in node_modules/pcap-parser/lib/pcap-parser.js):
 * - a truncated last record (or record header): it waits for bytes that never come, then emits
 *   'end'; the partial record is dropped without a word;
 * - a giant caplen: it keeps concatenating every later chunk onto its buffer (a full copy per
 *   chunk, so quadratic time and memory growing with the file) and never emits the record;
 * - its 'error' only re-emits stream errors (plus a bad magic / version, after which it pauses
 *   the stream for good).
 * So we run our own ClassicReader in scan mode over the same bytes first (a light record-header
 * check as the bytes pass into pcap-parser's PassThrough): it finds those faults with their
 * byte offsets, and we hand pcap-parser only the bytes before a fatal fault, so it never
 * chokes and never waits. Nothing here can hang: every wait also ends on pcap-parser's 'end'.
 */
import { PassThrough } from 'node:stream';
import pcapParser, { type PcapPacket } from 'pcap-parser';
import { ClassicReader } from './pcap-reader.js';
import { addFault, readFailed, type ReadContext } from './unit-reader.js';

/** The next chunk of the input, or null at its end (or after a read error, already recorded). */
export type NextChunk = () => Promise<Buffer | null>;

export async function readWithPcapParser(head: Buffer, next: NextChunk, ctx: ReadContext): Promise<number> {
  const scanner = new ClassicReader(ctx, true, false, true);
  const pt = new PassThrough({ highWaterMark: 1 << 20 });
  const parser = pcapParser.parse(pt);
  const rec = ctx.rec;
  let delivered = 0;
  let recordOffset = 24;
  let sinkError: { error: unknown } | null = null;
  let parserError: Error | null = null;
  let parserEnded = false;
  const ended = new Promise<void>((resolve) =>
    parser.once('end', () => {
      parserEnded = true;
      resolve();
    }),
  );
  parser.on('error', (e: Error) => {
    parserError = e;
  });
  parser.on('packet', (p: PcapPacket) => {
    if (sinkError) return;
    const h = p.header;
    rec.index = ++delivered;
    rec.tsSec = h.timestampSeconds;
    rec.tsNsec = h.timestampMicroseconds * 1000;
    rec.caplen = h.capturedLength;
    rec.origLen = h.originalLength;
    rec.fileOffset = recordOffset;
    rec.data = p.data;
    recordOffset += 16 + h.capturedLength;
    ctx.summary.packets = delivered;
    try {
      ctx.sink.onRecord(rec);
    } catch (error) {
      sinkError = { error }; // thrown from readCapture once pcap-parser has stopped
    }
  });

  let written = 0; // stream bytes handed to pcap-parser
  const feed = async (chunk: Buffer): Promise<boolean> => {
    const ok = scanner.push(chunk);
    let part = chunk;
    if (!ok) {
      const faults = ctx.summary.faults;
      const cut = faults.length > 0 ? faults[faults.length - 1]!.offset - written : 0;
      part = chunk.subarray(0, Math.max(0, Math.min(cut, chunk.length)));
    }
    written += part.length;
    if (part.length > 0 && !pt.write(part) && !parserEnded) await drainOrEnd(pt, ended);
    return ok && !sinkError && !parserEnded;
  };

  let more = await feed(head);
  while (more) {
    const chunk = await next();
    if (chunk === null) break;
    more = await feed(chunk);
  }
  if (!readFailed(ctx.summary)) scanner.finish();
  pt.end();
  await ended;
  if (sinkError) throw (sinkError as { error: unknown }).error;
  if (parserError) {
    addFault(ctx.summary, 'READ_ERROR', written, `pcap-parser stopped: ${(parserError as Error).message}`, true);
  } else if (delivered !== scanner.recordCount) {
    addFault(ctx.summary, 'INTERNAL', recordOffset, `pcap-parser delivered ${delivered} records where the header scan found ${scanner.recordCount}`, false);
  }
  return scanner.offset;
}

function drainOrEnd(pt: PassThrough, ended: Promise<void>): Promise<void> {
  let onDrain: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    onDrain = resolve;
    pt.once('drain', onDrain);
  });
  return Promise.race([drained, ended]).finally(() => pt.off('drain', onDrain));
}
