/**
 * Named network namespaces: `wirelab-<ownerPid>-<id>-<role>`. The owner PID in the name lets
 * cleanupStale() find namespaces whose owner died (SIGKILL, OOM) and remove them with whatever
 * still runs inside. Each namespace gets a holder process (`cat` reading a pipe from us) whose
 * /proc/<pid>/net/* observers read without spawning; it exits by itself when we die.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WirelabError } from '../errors.js';
import { child } from '../log.js';
import { run, runOk, runSync } from './command.js';

const log = child('sandbox');

const NAME_RE = /^wirelab-(\d+)-([0-9a-f]+)-([a-z]+)$/;

export interface SandboxNamespace {
  name: string;
  ownerPid: number;
  id: string;
  role: string;
  ownerAlive: boolean;
}

export function newSandboxId(): string {
  return randomBytes(4).toString('hex');
}

export function namespaceName(id: string, role: string): string {
  return `wirelab-${process.pid}-${id}-${role}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseNetnsList(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** Every wirelab namespace on this machine, with whether its owner process still lives. */
export async function listSandboxNamespaces(): Promise<SandboxNamespace[]> {
  const r = await run(['ip', 'netns', 'list']);
  const out: SandboxNamespace[] = [];
  for (const name of parseNetnsList(r.stdout)) {
    const m = NAME_RE.exec(name);
    if (!m) continue;
    const ownerPid = Number(m[1]);
    out.push({ name, ownerPid, id: m[2]!, role: m[3]!, ownerAlive: pidAlive(ownerPid) });
  }
  return out;
}

export async function createNamespace(name: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', name], 'NETNS_FAILED', `creating namespace ${name}`);
  await runOk(['ip', '-n', name, 'link', 'set', 'lo', 'up'], 'NETNS_FAILED', `bringing lo up in ${name}`);
}

/** SIGKILL every pid in `ip netns pids` output (processes already gone are fine). */
function killAll(pidsText: string): void {
  for (const p of pidsText.split(/\s+/)) {
    const pid = Number(p);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Kill everything inside the namespace, then delete it. Missing namespaces are fine. */
export async function deleteNamespace(name: string): Promise<void> {
  killAll((await run(['ip', 'netns', 'pids', name])).stdout);
  const r = await run(['ip', 'netns', 'del', name]);
  if (r.code !== 0 && !/No such file|Invalid argument|does not exist/i.test(r.stderr)) {
    log.warn({ ns: name, stderr: r.stderr }, 'ip netns del failed');
  }
}

/** The synchronous form for process 'exit': best effort, never throws. */
export function deleteNamespaceSync(name: string): void {
  try {
    killAll(runSync(['ip', 'netns', 'pids', name]).stdout);
    runSync(['ip', 'netns', 'del', name]);
  } catch {
    // best effort
  }
}

/** Delete the namespaces of dead owners (and kill what still runs in them). Returns their names. */
export async function cleanupStale(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listSandboxNamespaces()) {
    if (ns.ownerAlive) continue;
    await deleteNamespace(ns.name);
    removed.push(ns.name);
  }
  if (removed.length > 0) log.info({ removed }, 'removed stale wirelab namespaces');
  return removed;
}

export interface Holder {
  pid: number;
  proc: ChildProcess;
}

/**
 * Start the namespace's holder: `ip netns exec NS cat` with stdin a pipe from us. `ip netns exec`
 * execs the command, so the child's pid is cat's and cat lives in the namespace; it exits when the
 * pipe closes, i.e. when we close it or die.
 */
export function startHolder(name: string): Promise<Holder> {
  return new Promise((resolve, reject) => {
    const proc = spawn('ip', ['netns', 'exec', name, 'cat'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    proc.stdin!.on('error', () => {});
    const fail = (why: string) =>
      reject(new WirelabError('NETNS_FAILED', `the holder process of namespace ${name} ${why}: ${stderr.trim()}`, { ns: name }));
    proc.once('error', (e) => fail(`could not start (${e.message})`));
    proc.once('exit', (code) => fail(`exited at once (code ${code})`));
    proc.once('spawn', () => {
      const pid = proc.pid!;
      // `ip netns exec` switches namespace and then execs cat: wait until that happened.
      const started = Date.now();
      const poll = (): void => {
        let comm = '';
        try {
          comm = readComm(pid);
        } catch {
          return; // exited: the 'exit' handler reports it
        }
        if (comm === 'cat') {
          proc.removeAllListeners('exit');
          (proc.stdin as unknown as { unref?: () => void }).unref?.();
          (proc.stderr as unknown as { unref?: () => void }).unref?.();
          proc.unref();
          resolve({ pid, proc });
        } else if (Date.now() - started > 5000) {
          fail('did not start within 5 s');
        } else setTimeout(poll, 2);
      };
      poll();
    });
  });
}

function readComm(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

/** Close the holder's stdin: cat exits (deleteNamespace SIGKILLs it anyway). */
export function stopHolder(h: Holder): void {
  try {
    h.proc.stdin?.destroy();
  } catch {
    // gone
  }
}
