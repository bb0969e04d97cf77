/**
 * Classic little-endian microsecond pcap from a stream (a lab's live `tcpdump -w -`, `inspect -`)
 * through pcap-parser 0.2.1 (the user's choice), driven only through its public API: parse(stream)
 * and its 'packet' / 'error' / 'end' events. Regular files are read by our ClassicReader alone
 * (read.ts): one pass, no copies.
 *
 * What pcap-parser does with bad input (read in node_modules/pcap-parser/lib/pcap-parser.js):
 * - a truncated last record (or record header): it waits for bytes that never come, then emits
 *   'end'; the partial record is dropped without a word;
 * - a giant caplen: it keeps concatenating every later chunk onto its buffer (a full copy per
 *   chunk, so quadratic time and memory growing with the file) and never emits the record;
 * - its 'error' only re-emits stream errors (plus a bad magic / version, after which it pauses
 *   the stream for good).
 * So our ClassicReader in scan mode checks the record headers of the same bytes first: it finds
 * those faults with their byte offsets, and pcap-parser is given only whole records before a
 * fatal fault, so it never chokes and never waits.
 *
 * The stream pcap-parser is given is a bare EventEmitter with pause() / resume() (all it uses of
 * a stream): each chunk is emitted to it synchronously. pcap-parser copies each chunk once into
 * its own buffer; the record that straddles two input chunks is copied whole once more here.
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

  /** Whole units to pcap-parser. */
  const give = (units: Buffer): void => {
    if (!parserEnded) source.emit('data', units);
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
