/**
 * The tiny protocol between the runner and a lab program: the program gets its arguments as one
 * JSON argument, prints one JSON line per event on stdout ({"event": ..., "t": epoch seconds}),
 * and reads commands as JSON lines on stdin ({"do": ...}).
 */
import { createInterface } from 'node:readline';

export function args<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('a lab program takes its arguments as one JSON string');
  return JSON.parse(raw) as T;
}

export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, t: Date.now() / 1000, ...fields })}\n`);
}

export function onCommand(handler: (cmd: { do: string; [k: string]: unknown }) => void): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    try {
      handler(JSON.parse(line) as { do: string });
    } catch (e) {
      emit('error', { code: 'BAD_COMMAND', message: (e as Error).message });
    }
  });
  // The runner closing our stdin means: the lab is over.
  rl.on('close', () => process.exit(0));
}
