/** Run the real, built CLI as a child process, as a user would. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(root, 'dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: Buffer | string;
  timeoutMs?: number;
  prefix?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Run any program from the repository root, collecting its output; rejects past the timeout (default 60 s). */
export function runProgram(argv: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} did not finish within ${opts.timeoutMs ?? 60_000} ms\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return runProgram([...(opts.prefix ?? []), process.execPath, cliPath, ...args], opts);
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
