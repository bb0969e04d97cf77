/**
 * Which way this process can give a lab its network: its own namespaces (root with CAP_SYS_ADMIN:
 * `ip netns add` mounts /run/netns), or, in a container started without CAP_SYS_ADMIN, the
 * container's own network namespace (already isolated from the host), one lab at a time. The
 * host's namespace is never used: the second way needs proof that this process is not in it.
 */
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import type { PrivilegeReport } from './privileges.js';
import type { TopologySpec } from './types.js';

/** The inode of the initial (host) network namespace: fixed (PROC_NET_INIT_INO) on kernels >= 6.18. */
export const HOST_NETNS_INO = 0xeffffff9;

export const ADD_SYS_ADMIN =
  'add --cap-add SYS_ADMIN to docker run (podman: the same; where AppArmor is on, also --security-opt apparmor=unconfined)';

export type SandboxMode =
  | { kind: 'namespaces' }
  | { kind: 'own-netns'; why: string } // no CAP_SYS_ADMIN, in a namespace that is not the host's
  | { kind: 'none'; why: string }; // neither: the reason, with the fix

/** The kernel gives the host's namespace a fixed inode from 6.18 on: before that, inodes prove nothing. */
function kernelHasFixedInitInode(release = os.release()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 6 || (maj === 6 && min >= 18);
}

function containerMarker(): string | null {
  if (process.env.WIRELAB_IN_CONTAINER === '1') return 'WIRELAB_IN_CONTAINER=1 (set by wirelab\'s image)';
  if (existsSync('/.dockerenv')) return '/.dockerenv';
  if (existsSync('/run/.containerenv')) return '/run/.containerenv';
  return null;
}

export function ownNetnsInode(): number | null {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return null;
  }
}

/**
 * Is this process's network namespace surely not the host's? On kernels >= 6.18 the inode says so;
 * before, a container marker is the only hint (and then `--network host` cannot be told apart).
 */
export function notHostNetns(): { ok: boolean; why: string } {
  const ino = ownNetnsInode();
  if (ino === HOST_NETNS_INO) return { ok: false, why: 'this process is in the host\'s network namespace' };
  if (ino !== null && kernelHasFixedInitInode()) return { ok: true, why: `network namespace net:[${ino}] is not the host's` };
  const marker = containerMarker();
  if (marker) return { ok: true, why: `running in a container (${marker})` };
  return { ok: false, why: 'nothing shows that this process runs in a container of its own network namespace' };
}

export function sandboxMode(p: PrivilegeReport): SandboxMode {
  if (p.sysAdmin) return { kind: 'namespaces' };
  const own = notHostNetns();
  if (p.uid === 0 && p.netAdmin && own.ok) return { kind: 'own-netns', why: own.why };
  return {
    kind: 'none',
    why: `this process lacks CAP_SYS_ADMIN (CapEff ${p.capEff.toString(16)}), which creating a lab's network namespace needs (ip netns mounts /run/netns), and ${own.ok ? 'lacks CAP_NET_ADMIN' : own.why}: ${ADD_SYS_ADMIN}`,
  };
}

/** What a user reads once per run in this mode. */
export const OWN_NETNS_NOTE =
  'wirelab: no CAP_SYS_ADMIN here, so labs cannot have namespaces of their own: single-host labs run in this container\'s own network namespace (isolated from the host), one at a time; labs with two hosts or a router need --cap-add SYS_ADMIN';

/** Null when `topology` runs in the container's own namespace; else why not and the flag to add. */
export function ownNetnsRefusal(topology: TopologySpec, what: string): string | null {
  if (topology.kind === 'loopback') return null;
  const hosts = topology.kind === 'veth' ? 'two hosts (client and server namespaces joined by a veth pair)' : 'three namespaces (client, router, server)';
  return `${what} needs ${hosts}, and this container may not create namespaces (no CAP_SYS_ADMIN): ${ADD_SYS_ADMIN}`;
}
