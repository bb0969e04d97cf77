/**
 * What the tcpdump and raw-socket backends share: a child process inside the namespace that
 * writes a pcap to its stdout and reports readiness and counts on stderr. Its stdout is teed into
 * the capture file and a PassThrough `stream`; stop() sends SIGINT and waits until the process has
 * exited and the file is closed.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import { WirelabError } from '../errors.js';
import type { CaptureBackend, CaptureStats, LiveCapture } from './live-types.js';

/** A `stream` nobody reads is dropped past this many buffered bytes (the file still gets all). */
const UNREAD_STREAM_CAP = 32 * 1024 * 1024;
// tcpdump is ready in 15–36 ms; at a load average of 100 (eight engineers' 20-run proofs) it took over 5 s.
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5000;

export interface CountsFromStderr {
  captured: number;
  receivedByFilter: number | null;
  droppedByKernel: number | null;
}

export interface SuperviseOptions {
  proc: ChildProcess;
  file: string;
  backend: CaptureBackend;
  limits: string[];
  ready: RegExp; // matched against stderr
  what: string; // for messages: "tcpdump -i lo in wirelab-..."
  parseCounts(stderr: string): CountsFromStderr | null;
}

export function supervise(o: SuperviseOptions): Promise<LiveCapture> {
  const { proc } = o;
  mkdirSync(dirname(o.file), { recursive: true });
  const out = createWriteStream(o.file);
  const stream = new PassThrough();
  let stderr = '';
  let bytes = 0;
  let exited = false;
  let exitCode: number | null = null;
  let exitSignal: NodeJS.Signals | null = null;

  const fileClosed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  let outError: Error | null = null;
  out.on('error', (e) => (outError = e));
  const procClosed = new Promise<void>((resolve) =>
    proc.once('close', (code, signal) => {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      resolve();
    }),
  );
  proc.once('error', (e) => {
    stderr += `\n${e.message}`;
  });

  proc.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    out.write(chunk);
    if (stream.destroyed) return;
    if (stream.readableFlowing === null && stream.readableLength + stream.writableLength > UNREAD_STREAM_CAP) stream.destroy();
    else stream.write(chunk);
  });
  proc.stdout!.once('end', () => {
    out.end();
    if (!stream.destroyed) stream.end();
  });
  proc.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });

  const stop = async (): Promise<CaptureStats> => {
    if (!exited) {
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await procClosed;
      clearTimeout(t);
    }
    await fileClosed;
    if (outError) throw new WirelabError('INTERNAL', `writing ${o.file} failed: ${(outError as Error).message}`, { file: o.file });
    const counts = o.parseCounts(stderr);
    const limits = [...o.limits];
    if (!counts) limits.push(`${o.backend} printed no packet counts (exit ${exitCode ?? exitSignal}): the capture may be cut short`);
    return {
      backend: o.backend,
      captured: counts?.captured ?? 0,
      receivedByFilter: counts?.receivedByFilter ?? null,
      droppedByKernel: counts?.droppedByKernel ?? null,
      complete: counts !== null && (counts.droppedByKernel ?? 0) === 0,
      limits,
    };
  };

  return new Promise<LiveCapture>((resolve, reject) => {
    let done = false;
    const fail = (why: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      void procClosed.then(() => fileClosed).finally(() =>
        reject(new WirelabError('CAPTURE_START_FAILED', `${o.what} ${why}: ${stderr.trim() || '(no output)'}`, { stderr, file: o.file })),
      );
    };
    const timer = setTimeout(() => fail(`did not report ready within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const check = (): void => {
      if (done || !o.ready.test(stderr)) return;
      done = true;
      clearTimeout(timer);
      resolve({ backend: o.backend, file: o.file, limits: [...o.limits], stream, stop });
    };
    proc.stderr!.on('data', check);
    void procClosed.then(() => fail(`exited before it was ready (code ${exitCode ?? exitSignal}; ${bytes} bytes written)`));
  });
}
