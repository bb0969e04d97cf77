/**
 * readCapture: one entry point for every capture wirelab reads, from a file, a pipe or a live
 * `tcpdump -w -` on stdin. It peeks at the first four bytes and picks the reader:
 * - classic pcap in a regular file (any byte order, micro- or nanoseconds): our ClassicReader
 *   (pcap-reader.ts) alone: one pass, no copy of the bytes;
 * - classic little-endian microsecond pcap from a stream (a lab's live `tcpdump -w -`,
 *   `inspect -`): pcap-parser (pcap-classic.ts), through its public API, guarded by our header
 *   scan; other classic pcap from a stream: ClassicReader;
 * - pcapng (0a 0d 0d 0a): our PcapngReader (pcapng-reader.ts);
 * - anything else: a fatal UNKNOWN_MAGIC fault.
 * Records go to the sink as soon as their bytes arrive. Bad data never throws: it becomes a
 * ReadFault in the summary, with its byte offset, and every record before it is kept. Only an
 * exception thrown by the sink itself rejects the promise.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, ReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { WirelabError } from '../errors.js';
import { readWithPcapParser, type NextChunk } from './pcap-classic.js';
import { classicMagic, ClassicReader } from './pcap-reader.js';
import { PCAPNG_SHB, PcapngReader } from './pcapng-reader.js';
import type { ReadSummary, RecordSink } from './record.js';
import { addFault, CAPLEN_CEILING, newRecord, readFailed, type ReadContext, type UnitReader } from './unit-reader.js';

export interface ReadOptions {
  /** Records with a larger caplen stop the read with ABSURD_CAPLEN (default 16 MiB, and never above max(snaplen, 262144)). */
  maxCaplen?: number;
  /**
   * Who reads classic little-endian microsecond pcap. Default: our ClassicReader for a regular
   * file, pcap-parser for a stream. Tests force one or the other to compare them on the same bytes.
   */
  classicEngine?: 'pcap-parser' | 'wirelab';
}

const ACCEPTED = 'wirelab reads classic pcap and pcapng; convert with `editcap -F pcap in out.pcap`';
// File read size: larger reads raise peak RSS (freed read buffers are not handed back to the OS
// as readily) at no gain in time (bench/inspect.bench.ts).
const CHUNK = 256 << 10;

export async function readCapture(input: NodeJS.ReadableStream | Readable, sink: RecordSink, opts: ReadOptions = {}): Promise<ReadSummary> {
  const summary: ReadSummary = { format: null, linkType: -1, linkTypes: [], snaplen: 0, packets: 0, bytes: 0, faults: [] };
  const ctx: ReadContext = { sink, summary, rec: newRecord(), maxCaplen: opts.maxCaplen ?? CAPLEN_CEILING };
  let seen = 0; // bytes read from the input
  let done = false;
  const fail = (e: unknown): null => {
    done = true;
    addFault(summary, 'READ_ERROR', seen, readErrorMessage(e), true);
    return null;
  };
  let next: NextChunk;
  let release: () => Promise<void>;
  const fd = regularFileFd(input);
  if (fd >= 0) {
    // A regular file opened by openCaptureFile: read its descriptor directly, synchronously, into
    // two buffers used in turn (no stream machinery, no new buffer per chunk, and no hand-over to
    // libuv's thread pool and back per chunk: on a loaded machine every hand-over waits for a
    // thread to be scheduled, which cost more than the read itself). A chunk's bytes are valid
    // until the next-but-one call: readers copy what they hold across calls, the sink copies what
    // it keeps.
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let k = 0;
    next = async () => {
      if (done) return null;
      try {
        const b = bufs[k]!;
        const n = readSync(fd, b, 0, b.length, null);
        if (n === 0) {
          done = true;
          return null;
        }
        seen += n;
        k ^= 1;
        return n === b.length ? b : b.subarray(0, n);
      } catch (e) {
        return fail(e);
      }
    };
    release = async () => {
      done = true;
      (input as ReadStream).destroy(); // closes the descriptor
    };
  } else {
    const it = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    next = async () => {
      if (done) return null;
      try {
        const r = await it.next();
        if (r.done) {
          done = true;
          return null;
        }
        const chunk = typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : r.value;
        seen += chunk.length;
        return chunk;
      } catch (e) {
        return fail(e);
      }
    };
    release = async () => {
      if (!done) {
        done = true;
        // Stop reading (a fatal fault, or the sink threw): release the stream.
        await it.return?.().catch(() => undefined);
      }
    };
  }
  try {
    let head = await next();
    while (head !== null && head.length < 4) {
      const more = await next();
      if (more === null) break;
      head = Buffer.concat([head, more]);
    }
    if (head === null || head.length < 4) {
      if (summary.faults.length === 0) {
        if (head === null || head.length === 0) addFault(summary, 'EMPTY', 0, `the input is empty (0 bytes): ${ACCEPTED}`, true);
        else addFault(summary, 'TRUNCATED_HEADER', 0, `the input is only ${head.length} bytes long: too short for any capture; ${ACCEPTED}`, true);
      }
      summary.bytes = 0;
      return summary;
    }
    const classic = classicMagic(head);
    const engine = opts.classicEngine ?? (fd >= 0 ? 'wirelab' : 'pcap-parser');
    if (classic && classic.le && !classic.nsec && engine === 'pcap-parser') {
      summary.bytes = await readWithPcapParser(head, next, ctx);
      return summary;
    }
    let reader: UnitReader;
    if (classic) reader = new ClassicReader(ctx, classic.le, classic.nsec);
    else if (head.readUInt32LE(0) === PCAPNG_SHB) reader = new PcapngReader(ctx);
    else {
      addFault(summary, 'UNKNOWN_MAGIC', 0, unknownMagicMessage(head), true);
      return summary;
    }
    let chunk: Buffer | null = head;
    while (chunk !== null && reader.push(chunk)) chunk = await next();
    if (!readFailed(summary)) reader.finish();
    summary.bytes = reader.offset;
    return summary;
  } finally {
    await release();
  }
}

/** The descriptor of a regular file opened by openCaptureFile and not read yet, else -1 (pipes, sockets, other streams). */
function regularFileFd(input: NodeJS.ReadableStream | Readable): number {
  if (!(input instanceof ReadStream) || input.bytesRead !== 0) return -1;
  const fd = (input as ReadStream & { fd?: unknown }).fd; // set when opened with { fd } (openCaptureFile)
  if (typeof fd !== 'number') return -1;
  try {
    return fstatSync(fd).isFile() ? fd : -1;
  } catch {
    return -1;
  }
}

/** Open a capture for readCapture, failing BEFORE streaming starts with the fix in the message. `-` is stdin. */
export function openCaptureFile(path: string): Readable {
  if (path === '-') return process.stdin;
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw openError(path, e);
  }
  if (isDir) {
    throw new WirelabError('BAD_PCAP', `${path} is a directory: give wirelab a capture file (a .pcap or .pcapng, e.g. ${path.replace(/\/$/, '')}/lab.pcap)`, { path });
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw openError(path, e);
  }
  try {
    return createReadStream(path, { fd, highWaterMark: CHUNK });
  } catch (e) {
    closeSync(fd);
    throw openError(path, e);
  }
}

/** openCaptureFile + readCapture. Throws WirelabError only for a file that cannot be opened. */
export function readCaptureFile(path: string, sink: RecordSink, opts: ReadOptions = {}): Promise<ReadSummary> {
  return readCapture(openCaptureFile(path), sink, opts);
}

function openError(path: string, e: unknown): WirelabError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new WirelabError('FILE_NOT_FOUND', `no such file: ${path}; check the path (wirelab inspect takes a .pcap or .pcapng file, or - for stdin)`, { path });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new WirelabError('BAD_PCAP', `cannot read ${path}: permission denied; tcpdump's files belong to user tcpdump unless it ran with -Z root: \`chmod a+r ${path}\` or run as a user who can read it`, { path });
  }
  return new WirelabError('BAD_PCAP', `cannot open ${path}: ${(e as Error).message}`, { path, code });
}

function readErrorMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const where = err.path ? ` ${err.path}` : ' the capture';
  switch (err.code) {
    case 'EISDIR':
      return `cannot read${where}: it is a directory; give wirelab a .pcap or .pcapng file`;
    case 'ENOENT':
      return `cannot read${where}: no such file; check the path`;
    case 'EACCES':
      return `cannot read${where}: permission denied; \`chmod a+r\` it or run as a user who can read it`;
    default:
      return `cannot read${where}: ${err.message ?? String(e)}`;
  }
}

function unknownMagicMessage(head: Buffer): string {
  const hex = head.toString('hex', 0, 4);
  let hint = '';
  if (head[0] === 0x1f && head[1] === 0x8b) hint = ' (gzip-compressed: gunzip it first)';
  else if (hex === '34cdb2a1' || hex === 'a1b2cd34') hint = ' (Alexey Kuznetzov\'s modified pcap: re-save with editcap)';
  return `not a pcap or pcapng file (first bytes ${hex}${hint}): ${ACCEPTED}`;
}
