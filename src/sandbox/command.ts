/**
 * Running the system tools the sandbox drives (ip, nft, sysctl via sh); `which` (src/which.ts) finds them.
 * Every spawned command is logged at debug level; nothing here prints.
 */
import { spawn, spawnSync } from 'node:child_process';
import { WirelabError, type WirelabErrorCode } from '../errors.js';
import { child } from '../log.js';
import type { ExecResult } from './types.js';

export { which } from '../which.js';

const log = child('sandbox');

/** Run argv, collect its output; never throws for a non-zero exit (spawn failures give code 127). */
export function run(argv: string[], input?: string): Promise<ExecResult> {
  log.debug({ argv }, 'run');
  return new Promise((resolve) => {
    const cp = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    cp.stdout.on('data', (b: Buffer) => out.push(b));
    cp.stderr.on('data', (b: Buffer) => err.push(b));
    cp.stdin.on('error', () => {});
    let spawnError: Error | null = null;
    cp.on('error', (e) => {
      spawnError = e;
    });
    cp.on('close', (code, signal) => {
      resolve({
        code: spawnError ? 127 : code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: spawnError ? String((spawnError as Error).message) : Buffer.concat(err).toString('utf8'),
      });
    });
    if (input !== undefined) cp.stdin.end(input);
    else cp.stdin.end();
  });
}

/** Run argv and throw `code` with the command and its stderr when it fails. */
export async function runOk(argv: string[], code: WirelabErrorCode, what: string, input?: string): Promise<ExecResult> {
  const r = await run(argv, input);
  if (r.code !== 0) {
    throw new WirelabError(code, `${what} failed: \`${argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`, {
      argv,
      exitCode: r.code,
      stderr: r.stderr,
    });
  }
  return r;
}

/** Synchronous variant for the process 'exit' path, where nothing asynchronous runs any more. */
export function runSync(argv: string[]): ExecResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
