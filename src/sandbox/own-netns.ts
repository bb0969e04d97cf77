/**
 * The sandbox of container mode: a loopback lab in this process's own network namespace (the
 * container's; container-mode.ts decides when that is allowed). Programs and the capture run as
 * plain children, no `ip netns exec`. One sandbox at a time (labs would share lo, the socket table
 * and the sysctls), and whatever a lab changes is put back when it ends: sysctls to their earlier
 * values, lo's MTU, the fault table `inet wirelab`, TCP metrics the kernel cached for 127.0.0.1.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { WirelabError } from '../errors.js';
import { child } from '../log.js';
import { run, which } from './command.js';
import { ownNetnsRefusal } from './container-mode.js';
import { FaultTables } from './faults.js';
import { register, unregister } from './registry.js';
import { setSysctlsIn } from './sysctl.js';
import type { ExecResult, FaultCount, FaultRule, HostRole, LabHost, Sandbox, SysctlResult, SysctlSpec, TopologySpec } from './types.js';

const log = child('sandbox');
const HOOK_TIMEOUT_MS = 3000;
const LO_MTU = 65536;
/** How the hosts' `netns` reads in messages ("tcpdump on lo in ..."). */
export const OWN_NETNS_LABEL = "the container's own network namespace";

let queue: Promise<void> = Promise.resolve();

/** Wait for the previous own-namespace sandbox to be destroyed; resolves with the release function. */
function acquire(): Promise<() => void> {
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const turn = queue.then(() => release);
  queue = queue.then(() => mine);
  return turn;
}

class OwnNetnsSandbox implements Sandbox {
  readonly roles: HostRole[] = ['client', 'server'];
  private readonly children = new Set<ChildProcess>();
  private readonly restore = new Map<string, string>(); // sysctl key -> value before the lab
  private readonly faults: FaultTables;
  private readonly hooks: (() => Promise<unknown>)[] = [];
  private faultsUsed = false;
  private destroyed: Promise<void> | null = null;

  constructor(
    readonly id: string,
    readonly topology: TopologySpec,
    readonly label: string,
    private readonly mtu: number,
    private readonly loMtuBefore: number,
    private readonly loWasDown: boolean,
    private readonly release: () => void,
  ) {
    this.faults = new FaultTables({
      loopback: true,
      nsOf: () => OWN_NETNS_LABEL,
      addrsOf: () => ({ v4: ['127.0.0.1'], v6: ['::1'] }),
      execPrefix: () => [],
    });
  }

  namespaces(): string[] {
    return []; // none of our own: nothing for the exit path to delete
  }

  host(role: HostRole): LabHost {
    if (role === 'router') throw new WirelabError('BAD_USAGE', 'the loopback topology has no router (it has client, server)');
    return { role, netns: OWN_NETNS_LABEL, iface: 'lo', addr4: '127.0.0.1', addr6: '::1', mtu: this.mtu };
  }

  private alive(): void {
    if (this.destroyed) throw new WirelabError('INTERNAL', `sandbox ${this.id} (${this.label}) was destroyed`);
  }

  spawn(role: HostRole, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    this.alive();
    this.host(role);
    if (argv.length === 0) throw new WirelabError('BAD_USAGE', 'spawn needs a program to run');
    const cp = spawn(argv[0]!, argv.slice(1), opts);
    this.children.add(cp);
    cp.once('exit', () => this.children.delete(cp));
    return cp;
  }

  exec(role: HostRole, argv: string[], input?: string): Promise<ExecResult> {
    this.alive();
    this.host(role);
    return run(argv, input);
  }

  async setSysctls(spec: SysctlSpec, role?: HostRole): Promise<SysctlResult[]> {
    this.alive();
    if (role) this.host(role);
    const results = await setSysctlsIn(OWN_NETNS_LABEL, spec, { argv: [], ownNetns: true });
    for (const r of results) if (!r.skipped && r.previous !== r.value && !this.restore.has(r.key)) this.restore.set(r.key, r.previous);
    return results;
  }

  applyFaults(rules: FaultRule[]): Promise<void> {
    this.alive();
    this.faultsUsed = true;
    return this.faults.apply(rules);
  }

  armFault(name: string, durationMs?: number): Promise<void> {
    this.alive();
    return this.faults.arm(name, durationMs);
  }

  disarmFault(name: string): Promise<void> {
    this.alive();
    return this.faults.disarm(name);
  }

  faultCounts(): Promise<FaultCount[]> {
    this.alive();
    return this.faults.counts();
  }

  nsPid(role: HostRole): number {
    this.alive();
    this.host(role);
    return process.pid; // /proc/<our pid>/net/* is this namespace
  }

  onDestroy(hook: () => Promise<unknown>): void {
    this.hooks.push(hook);
  }

  destroy(): Promise<void> {
    if (!this.destroyed) {
      this.destroyed = (async () => {
        try {
          await Promise.allSettled(this.hooks.map((h) => Promise.race([h(), new Promise((r) => setTimeout(r, HOOK_TIMEOUT_MS).unref())])));
          unregister(this);
          await killAll(this.children);
          if (this.faultsUsed) await run(['nft', 'delete', 'table', 'inet', 'wirelab']);
          if (this.restore.size) {
            const back = Object.fromEntries(this.restore);
            await setSysctlsIn(OWN_NETNS_LABEL, back, { argv: [], ownNetns: true }).catch((e) => log.warn({ err: e, back }, 'could not restore sysctls'));
          }
          if (this.mtu !== this.loMtuBefore) await run(['ip', 'link', 'set', 'lo', 'mtu', String(this.loMtuBefore)]);
          if (this.loWasDown) await run(['ip', 'link', 'set', 'lo', 'down']);
          await flushTcpMetrics();
          log.debug({ id: this.id, label: this.label }, 'own-namespace sandbox destroyed');
        } finally {
          this.release();
        }
      })();
    }
    return this.destroyed;
  }
}

async function killAll(children: Set<ChildProcess>): Promise<void> {
  const waits = [...children].map((cp) => new Promise<void>((r) => (cp.exitCode !== null || cp.signalCode !== null ? r() : cp.once('exit', () => r()))));
  for (const cp of children) cp.kill('SIGKILL');
  await Promise.all(waits);
}

/** The kernel caches RTT/ssthresh per destination: a lab must not start with the previous lab's. */
async function flushTcpMetrics(): Promise<void> {
  await run(['ip', 'tcp_metrics', 'flush', 'all']);
}

/** lo's MTU and whether it is down (a container's lo is up; a bare `unshare -n` leaves it down). */
async function loState(): Promise<{ mtu: number; down: boolean }> {
  const r = await run(['ip', '-o', 'link', 'show', 'lo']);
  const m = / mtu (\d+)/.exec(r.stdout);
  return { mtu: m ? Number(m[1]) : LO_MTU, down: !/[<,]UP[,>]/.test(r.stdout) };
}

export async function createOwnNetnsSandbox(id: string, topology: TopologySpec, opts: { label: string }): Promise<Sandbox> {
  const refusal = ownNetnsRefusal(topology, `${opts.label} (${topology.kind} topology)`);
  if (refusal) throw new WirelabError('NO_CAP_NET_ADMIN', refusal, { topology: topology.kind });
  const mtu = topology.mtu ?? LO_MTU;
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65536) {
    throw new WirelabError('BAD_USAGE', `loopback mtu must be an integer between 1280 (the IPv6 minimum) and 65536, got ${String(topology.mtu)}`);
  }
  const release = await acquire();
  try {
    const lo = await loState();
    await flushTcpMetrics();
    // A run killed mid-lab (docker exec, not the container's PID 1) may have left its fault table.
    if (which('nft')) await run(['nft', 'delete', 'table', 'inet', 'wirelab']);
    const sb = new OwnNetnsSandbox(id, topology, opts.label, mtu, lo.mtu, lo.down, release);
    register(sb);
    const set = [...(mtu !== lo.mtu ? ['mtu', String(mtu)] : []), ...(lo.down ? ['up'] : [])];
    if (set.length) {
      const r = await run(['ip', 'link', 'set', 'lo', ...set]);
      if (r.code !== 0) {
        await sb.destroy();
        throw new WirelabError('NETNS_FAILED', `\`ip link set lo ${set.join(' ')}\` in ${OWN_NETNS_LABEL} failed: ${r.stderr.trim()}`);
      }
    }
    log.debug({ id, label: opts.label, topology }, 'own-namespace sandbox created');
    return sb;
  } catch (e) {
    release();
    throw e;
  }
}
