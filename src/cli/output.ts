/** The CLI's stdout: the only place wirelab prints results. A closed pipe (`| head`) ends quietly. */
let closed = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') {
    closed = true;
    process.exit(0);
  }
});

export function out(text: string): void {
  if (closed) return;
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function outJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Text or bytes in pieces (a generator), written as they come, waiting when stdout's buffer is full. */
export async function outPieces(pieces: Iterable<string | Uint8Array>): Promise<void> {
  for (const piece of pieces) {
    if (closed) return;
    if (!process.stdout.write(piece)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}

/** Messages for the person at the terminal (warnings, progress) go to stderr. */
export function note(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Write everything pending to stdout before exiting. */
export function flushStdout(): Promise<void> {
  return new Promise((resolve) => {
    if (closed || process.stdout.writableLength === 0) return resolve();
    process.stdout.once('drain', () => resolve());
  });
}
