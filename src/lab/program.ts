/** A lab program running inside a namespace: JSON events out, JSON commands in. */
import type { ChildProcess } from 'node:child_process';
import { WirelabError } from '../errors.js';
import type { HostRole, Sandbox } from '../sandbox/types.js';
import { programArgv } from './paths.js';
import type { ProgramHandle, ProgramMessage, ProgramResult, WaitOptions } from './types.js';

const MAX_STDERR = 16 * 1024;

export class LabProgram implements ProgramHandle {
  readonly messages: ProgramMessage[] = [];
  private stderr = '';
  private exit: { code: number | null; signal: string | null } | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly child: ChildProcess;

  constructor(
    sandbox: Sandbox,
    readonly role: HostRole,
    readonly program: string,
    readonly name: string,
    args: Record<string, unknown>,
  ) {
    this.child = sandbox.spawn(role, [...programArgv(program), JSON.stringify(args)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        try {
          this.messages.push(JSON.parse(line) as ProgramMessage);
        } catch {
          this.messages.push({ event: 'stdout', t: Date.now() / 1000, line });
        }
        this.wake();
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.stderr.length < MAX_STDERR) this.stderr += chunk;
    });
    this.child.stdin!.on('error', () => {}); // the program may exit before reading
    // 'close', not 'exit': 'exit' can come before the last lines on stdout were read (seen under a
    // load of 100: a sender's final "done" line lost, the lab failing with "exited before done").
    this.child.on('close', (code, signal) => {
      this.exit = { code, signal };
      this.wake();
    });
    this.child.on('error', (e) => {
      this.stderr += `\nspawn failed: ${e.message}`;
      this.exit = { code: -1, signal: null };
      this.wake();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private waitUntil<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        const v = check();
        if (v !== undefined) {
          done();
          resolve(v);
          return true;
        }
        if (this.exit) {
          done();
          reject(this.failure(`exited (code ${this.exit.code}, signal ${this.exit.signal}) before ${what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`did not report ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => void attempt();
      if (!attempt()) this.waiters.add(waiter);
    });
  }

  private failure(what: string): WirelabError {
    const tail = this.stderr.trim().split('\n').slice(-5).join('\n');
    return new WirelabError('PROGRAM_FAILED', `lab program ${this.name} (${this.program} on ${this.role}) ${what}${tail ? `; its stderr:\n${tail}` : ''}`);
  }

  next(event: string, opts: WaitOptions | number = {}): Promise<ProgramMessage> {
    const o = typeof opts === 'number' ? { timeoutMs: opts } : opts;
    const nth = o.nth ?? 1;
    const where = o.where;
    const what = `${nth > 1 ? `the ${ordinal(nth)} ` : ''}"${event}"${where ? ' matching the lab\'s condition' : ''}`;
    return this.waitUntil(what, () => {
      let seen = 0;
      for (const m of this.messages) {
        if (m.event !== event || (where && !where(m))) continue;
        if (++seen === nth) return m;
      }
      return undefined;
    }, o.timeoutMs ?? 10_000);
  }

  all(event: string): ProgramMessage[] {
    return this.messages.filter((m) => m.event === event);
  }

  send(command: Record<string, unknown>): void {
    if (this.exit || !this.child.stdin?.writable) return;
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  done(timeoutMs = 10_000): Promise<ProgramResult> {
    return new Promise<ProgramResult>((resolve, reject) => {
      const finish = (): void => {
        if (!this.exit) return;
        clearTimeout(timer);
        this.waiters.delete(finish);
        resolve(this.result());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(finish);
        reject(this.failure(`did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(finish);
      finish();
    });
  }

  /** End the program: close stdin (it exits by itself), then SIGKILL if it lingers. */
  async stop(graceMs = 1000): Promise<ProgramResult> {
    this.child.stdin?.end();
    try {
      return await this.done(graceMs);
    } catch {
      this.child.kill('SIGKILL');
      return await this.done(2000).catch(() => this.result());
    }
  }

  result(): ProgramResult {
    return {
      name: this.name,
      role: this.role,
      program: this.program,
      code: this.exit?.code ?? null,
      signal: this.exit?.signal ?? null,
      messages: this.messages,
      stderr: this.stderr,
    };
  }
}

function ordinal(n: number): string {
  return n % 10 === 1 && n % 100 !== 11 ? `${n}st` : n % 10 === 2 && n % 100 !== 12 ? `${n}nd` : n % 10 === 3 && n % 100 !== 13 ? `${n}rd` : `${n}th`;
}
