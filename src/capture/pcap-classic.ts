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
 * check): it finds those faults with their byte offsets, and we hand pcap-parser only whole
 * records before a fatal fault, so it never chokes and never waits.
 *
 * How it is driven (measured on the 978k-packet bench trace, inspect --json): pcap-parser only
 * listens to 'data' / 'error' / 'end' on what it is given and calls pause() / resume(), so it is
 * given a bare EventEmitter and each chunk is emitted to it synchronously (no PassThrough, no
 * stream machinery per chunk). pcap-parser copies its leftover bytes and the new chunk into a new
 * zero-filled buffer on EVERY 'data' event (updateBuffer), unless its leftover is null. We hand it
 * only whole records (the scan knows where they end), so its leftover is always an empty slice,
 * and we set it to null before each chunk: updateBuffer then keeps our chunk as it is (no copy,
 * no allocation); the part of a record at the end of a chunk is copied (read.ts reuses chunk
 * memory), and the record that straddles two input chunks is copied once more, whole. If a later
 * pcap-parser keeps its leftover elsewhere, the `buffer` field is left alone and it copies as
 * before: slower, never wrong.
 */
import { EventEmitter } from 'node:events';
import pcapParser, { type PcapPacket } from 'pcap-parser';
import { ClassicReader } from './pcap-reader.js';
import { addFault, readFailed, type ReadContext } from './unit-reader.js';

/** The next chunk of the input, or null at its end (or after a read error, already recorded). */
export type NextChunk = () => Promise<Buffer | null>;

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

/** What pcap-parser is given: the three events it listens to and the two calls it makes. */
class ChunkSource extends EventEmitter {
  pause(): void {}
  resume(): void {}
}

export async function readWithPcapParser(head: Buffer, next: NextChunk, ctx: ReadContext): Promise<number> {
  const scanner = new ClassicReader(ctx, true, false, true);
  const source = new ChunkSource();
  const parser = pcapParser.parse(source as unknown as NodeJS.ReadableStream);
  const internals = parser as unknown as { buffer?: unknown };
  const rec = ctx.rec;
  let delivered = 0;
  let recordOffset = 24;
  let sinkError: { error: unknown } | null = null;
  let parserError: Error | null = null;
  let parserEnded = false;
  parser.once('end', () => {
    parserEnded = true;
  });
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

  /** Whole units to pcap-parser; its (empty) leftover dropped first so it does not copy. */
  const give = (units: Buffer): void => {
    if (parserEnded) return;
    const left = internals.buffer;
    if (left instanceof Uint8Array && left.length === 0) internals.buffer = null;
    source.emit('data', units);
  };

  let written = 0; // stream bytes handed to pcap-parser: always the end of a whole unit
  let held: Buffer[] = []; // the bytes after `written` seen so far (an unfinished unit): copies
  let heldLen = 0;
  /** Byte i of held + chunk (the unfinished unit and what follows it). */
  const byteAt = (chunk: Buffer, i: number): number => {
    for (const h of held) {
      if (i < h.length) return h[i]!;
      i -= h.length;
    }
    return chunk[i]!;
  };
  const feed = (chunk: Buffer): boolean => {
    const ok = scanner.push(chunk);
    let n = scanner.offset - written; // whole units (before any fatal fault) not handed over yet
    let pos = 0;
    if (n > 0 && heldLen > 0) {
      // The unit that straddles the chunks: copied once, alone.
      const len = written === 0
        ? GLOBAL_HEADER
        : RECORD_HEADER + (byteAt(chunk, 8) | (byteAt(chunk, 9) << 8) | (byteAt(chunk, 10) << 16) | (byteAt(chunk, 11) << 24)) >>> 0;
      pos = len - heldLen;
      give(Buffer.concat([...held, chunk.subarray(0, pos)], len));
      held = [];
      heldLen = 0;
      written += len;
      n -= len;
    }
    if (n > 0) {
      give(chunk.subarray(pos, pos + n));
      pos += n;
      written += n;
    }
    if (ok && pos < chunk.length) {
      // Copied: the reader may reuse the chunk's memory for a later read (a partial record per chunk).
      held.push(Buffer.from(chunk.subarray(pos)));
      heldLen += chunk.length - pos;
    }
    return ok && !sinkError && !parserEnded;
  };

  let more = feed(head);
  while (more) {
    const chunk = await next();
    if (chunk === null) break;
    more = feed(chunk);
  }
  if (!readFailed(ctx.summary)) scanner.finish();
  held = [];
  if (!parserEnded) source.emit('end');
  if (sinkError) throw (sinkError as { error: unknown }).error;
  if (parserError) {
    addFault(ctx.summary, 'READ_ERROR', written, `pcap-parser stopped: ${(parserError as Error).message}`, true);
  } else if (delivered !== scanner.recordCount) {
    addFault(ctx.summary, 'INTERNAL', recordOffset, `pcap-parser delivered ${delivered} records where the header scan found ${scanner.recordCount}`, false);
  }
  return scanner.offset;
}
