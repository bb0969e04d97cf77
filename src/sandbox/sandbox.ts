/**
 * createSandbox: namespaces + topology + holders, and the Sandbox API on top of them
 * (spawn/exec via `ip netns exec`, sysctls, faults, destroy).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { WirelabError } from '../errors.js';
import { child } from '../log.js';
import { run } from './command.js';
import { FaultTables, type RoleAddrs } from './faults.js';
import { createNamespace, deleteNamespace, namespaceName, newSandboxId, startHolder, stopHolder, type Holder } from './namespaces.js';
import { ownNetnsRefusal, sandboxMode } from './container-mode.js';
import { createOwnNetnsSandbox } from './own-netns.js';
import { checkPrivileges, readPrivileges, requireTool } from './privileges.js';
import { register, unregister } from './registry.js';
import { setSysctlsIn } from './sysctl.js';
import { buildTopology, namespaceKeys } from './topology.js';
import type { ExecResult, FaultCount, FaultRule, HostRole, LabHost, Sandbox, SysctlResult, SysctlSpec, TopologySpec } from './types.js';

const log = child('sandbox');
const HOOK_TIMEOUT_MS = 3000;

class NetnsSandbox implements Sandbox {
  readonly roles: HostRole[];
  private readonly hosts: Map<HostRole, LabHost>;
  private readonly holders = new Map<string, Holder>(); // by namespace name
  private readonly faults: FaultTables;
  private destroyed: Promise<void> | null = null;
  private readonly destroyHooks: (() => Promise<unknown>)[] = [];

  constructor(
    readonly id: string,
    readonly topology: TopologySpec,
    readonly label: string,
    private readonly nsNames: string[],
    hosts: Map<HostRole, LabHost>,
    private readonly extraAddrs: Map<HostRole, RoleAddrs>,
  ) {
    this.hosts = hosts;
    this.roles = [...hosts.keys()];
    this.faults = new FaultTables({
      loopback: topology.kind === 'loopback',
      nsOf: (r) => this.host(r).netns,
      addrsOf: (r) => this.extraAddrs.get(r) ?? { v4: [this.host(r).addr4], v6: [this.host(r).addr6] },
    });
  }

  namespaces(): string[] {
    return this.nsNames;
  }

  host(role: HostRole): LabHost {
    const h = this.hosts.get(role);
    if (!h) throw new WirelabError('BAD_USAGE', `the ${this.topology.kind} topology has no ${role} (it has ${this.roles.join(', ')})`);
    return h;
  }

  private alive(): void {
    if (this.destroyed) throw new WirelabError('INTERNAL', `sandbox ${this.id} (${this.label}) was destroyed`);
  }

  spawn(role: HostRole, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    this.alive();
    if (argv.length === 0) throw new WirelabError('BAD_USAGE', 'spawn needs a program to run');
    return spawn('ip', ['netns', 'exec', this.host(role).netns, ...argv], opts);
  }

  exec(role: HostRole, argv: string[], input?: string): Promise<ExecResult> {
    this.alive();
    return run(['ip', 'netns', 'exec', this.host(role).netns, ...argv], input);
  }

  async setSysctls(spec: SysctlSpec, role?: HostRole): Promise<SysctlResult[]> {
    this.alive();
    const targets = role ? [this.host(role).netns] : this.nsNames;
    const out: SysctlResult[] = [];
    for (const ns of targets) out.push(...(await setSysctlsIn(ns, spec)));
    // One result per key: namespaces of one sandbox start equal, so the first's readings stand for all.
    const seen = new Set<string>();
    return out.filter((r) => (seen.has(r.key) ? false : (seen.add(r.key), true)));
  }

  applyFaults(rules: FaultRule[]): Promise<void> {
    this.alive();
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
    const h = this.holders.get(this.host(role).netns);
    if (!h) throw new WirelabError('INTERNAL', `no holder process for ${role}`);
    return h.pid;
  }

  setHolder(ns: string, h: Holder): void {
    this.holders.set(ns, h);
  }

  onDestroy(hook: () => Promise<unknown>): void {
    this.destroyHooks.push(hook);
  }

  destroy(): Promise<void> {
    if (!this.destroyed) {
      this.destroyed = (async () => {
        // Hooks first (a capture flushes its file) while the namespaces still exist; bounded in time.
        await Promise.allSettled(
          this.destroyHooks.map((h) => Promise.race([h(), new Promise((r) => setTimeout(r, HOOK_TIMEOUT_MS).unref())])),
        );
        unregister(this);
        for (const h of this.holders.values()) stopHolder(h);
        await Promise.all(this.nsNames.map((ns) => deleteNamespace(ns)));
        log.debug({ id: this.id, label: this.label }, 'sandbox destroyed');
      })();
    }
    return this.destroyed;
  }
}

/** Null when this process can build `topology`; else why not and the flag to add (container mode). */
export function topologyRefusal(topology: TopologySpec, what: string): string | null {
  return sandboxMode(readPrivileges()).kind === 'own-netns' ? ownNetnsRefusal(topology, what) : null;
}

/**
 * Create a sandbox for `topology`. Everything happens inside fresh namespaces named
 * `wirelab-<pid>-<id>-<role>`; on any failure what was made is removed before the error is thrown.
 * Without CAP_SYS_ADMIN, in a container: a loopback lab runs in the container's own namespace
 * (own-netns.ts), one at a time; other topologies say which flag to add.
 */
export async function createSandbox(topology: TopologySpec, opts: { label: string }): Promise<Sandbox> {
  const mode = sandboxMode(checkPrivileges());
  requireTool('ip');
  const id = newSandboxId();
  if (mode.kind === 'own-netns') return createOwnNetnsSandbox(id, topology, opts);
  const keys = namespaceKeys(topology);
  const names = new Map(keys.map((k) => [k, namespaceName(id, k)] as const));
  const nsNames = [...names.values()];
  const created: string[] = [];
  // Register at once so a signal during setup still removes what exists.
  const pendingReg = { namespaces: () => created, destroy: async () => void (await Promise.all(created.map(deleteNamespace))) };
  register(pendingReg);
  try {
    for (const ns of nsNames) {
      await createNamespace(ns);
      created.push(ns);
    }
    const built = await buildTopology(topology, names);
    const extra = new Map<HostRole, RoleAddrs>();
    if (topology.kind === 'router') extra.set('router', { v4: ['10.0.1.2', '10.0.2.1'], v6: ['fd00:1::2', 'fd00:2::1'] });
    const sb = new NetnsSandbox(id, topology, opts.label, nsNames, built.hosts, extra);
    const holders = await Promise.all(nsNames.map((ns) => startHolder(ns)));
    nsNames.forEach((ns, i) => sb.setHolder(ns, holders[i]!));
    unregister(pendingReg);
    register(sb);
    log.debug({ id, label: opts.label, topology, namespaces: nsNames }, 'sandbox created');
    return sb;
  } catch (e) {
    unregister(pendingReg);
    await Promise.all(created.map((ns) => deleteNamespace(ns)));
    throw e;
  }
}
