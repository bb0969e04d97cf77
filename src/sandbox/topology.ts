/**
 * The three topologies: 'loopback' (one namespace, lo), 'veth' (client <-> server), 'router'
 * (client <-> router <-> server). Veths are created inside the namespaces (`ip -n A link add eth0
 * type veth peer name eth0 netns B`) so nothing ever appears in the host namespace.
 */
import { WirelabError } from '../errors.js';
import { run, runOk } from './command.js';
import type { HostRole, LabHost, TopologySpec } from './types.js';

/** One namespace of a sandbox: its key ('host' on loopback, else the role) and name. */
export interface NsPlan {
  key: string;
  name: string;
}

export interface BuiltTopology {
  hosts: Map<HostRole, LabHost>;
  /** Per namespace name: the interfaces (besides lo) that must be up. */
  ifaces: Map<string, string[]>;
}

const DEFAULT_MTU = 1500;
const LO_MTU = 65536;

export function namespaceKeys(topology: TopologySpec): string[] {
  switch (topology.kind) {
    case 'loopback':
      return ['host'];
    case 'veth':
      return ['client', 'server'];
    case 'router':
      return ['client', 'router', 'server'];
  }
}

function validMtu(mtu: number | undefined, dflt: number, what: string): number {
  const m = mtu ?? dflt;
  if (!Number.isInteger(m) || m < 1280 || m > 65536) {
    throw new WirelabError('BAD_USAGE', `${what} must be an integer between 1280 (the IPv6 minimum) and 65536, got ${String(mtu)}`);
  }
  return m;
}

/** Run a batch of `ip` commands inside one namespace (`ip -n NS -batch -`). */
async function ipBatch(ns: string, lines: string[], what: string): Promise<void> {
  await runOk(['ip', '-n', ns, '-batch', '-'], 'NETNS_FAILED', what, lines.join('\n') + '\n');
}

/** Kernel knobs every namespace of a sandbox needs (no DAD; forwarding on the router only). */
async function baseSysctls(ns: string, router: boolean): Promise<void> {
  const lines = ['echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad', 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'];
  // DAD off is a speed-up only; nodad on the addresses is what matters.
  await run(['ip', 'netns', 'exec', ns, 'sh', '-c', lines.join(' 2>/dev/null; ') + ' 2>/dev/null; true']);
  if (router) {
    const r = await run([
      'ip', 'netns', 'exec', ns, 'sh', '-c',
      'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding',
    ]);
    if (r.code !== 0) {
      throw new WirelabError(
        'SYSCTL_FAILED',
        `could not turn on forwarding in the router namespace ${ns} (${r.stderr.trim()}): /proc/sys is read-only here; run the container with --security-opt systempaths=unconfined (podman: --security-opt unmask=/proc/sys)`,
        { ns },
      );
    }
  }
}

export async function buildTopology(topology: TopologySpec, ns: Map<string, string>): Promise<BuiltTopology> {
  const hosts = new Map<HostRole, LabHost>();
  const ifaces = new Map<string, string[]>();
  const N = (k: string): string => ns.get(k)!;
  switch (topology.kind) {
    case 'loopback': {
      const mtu = validMtu(topology.mtu, LO_MTU, 'loopback mtu');
      const name = N('host');
      await baseSysctls(name, false);
      if (mtu !== LO_MTU) await ipBatch(name, [`link set lo mtu ${mtu}`], `setting lo's MTU in ${name}`);
      for (const role of ['client', 'server'] as const) {
        hosts.set(role, { role, netns: name, iface: 'lo', addr4: '127.0.0.1', addr6: '::1', mtu });
      }
      ifaces.set(name, []);
      break;
    }
    case 'veth': {
      const mtu = validMtu(topology.mtu, DEFAULT_MTU, 'veth mtu');
      const c = N('client');
      const s = N('server');
      await Promise.all([baseSysctls(c, false), baseSysctls(s, false)]);
      await ipBatch(c, [`link add eth0 mtu ${mtu} type veth peer name eth0 mtu ${mtu} netns ${s}`, 'link set eth0 up'], `creating the veth pair ${c} <-> ${s}`);
      // Links up before addresses: IPv6 addresses added to a down link left the first neighbour
      // solicitation unanswered (~1 s delay) in 4 of 5 trials here; added after up, none did.
      await ipBatch(s, ['link set eth0 up'], `bringing up eth0 in ${s}`);
      await Promise.all([
        ipBatch(c, ['addr add 10.0.0.1/24 dev eth0', 'addr add fd00::1/64 dev eth0 nodad'], `addressing ${c}`),
        ipBatch(s, ['addr add 10.0.0.2/24 dev eth0', 'addr add fd00::2/64 dev eth0 nodad'], `addressing ${s}`),
      ]);
      hosts.set('client', { role: 'client', netns: c, iface: 'eth0', addr4: '10.0.0.1', addr6: 'fd00::1', mtu });
      hosts.set('server', { role: 'server', netns: s, iface: 'eth0', addr4: '10.0.0.2', addr6: 'fd00::2', mtu });
      ifaces.set(c, ['eth0']);
      ifaces.set(s, ['eth0']);
      break;
    }
    case 'router': {
      const mtu = validMtu(topology.mtu, DEFAULT_MTU, 'router mtu');
      const smtu = validMtu(topology.serverMtu, mtu, 'router serverMtu');
      const c = N('client');
      const r = N('router');
      const s = N('server');
      await Promise.all([baseSysctls(c, false), baseSysctls(r, true), baseSysctls(s, false)]);
      await ipBatch(
        r,
        [
          `link add eth0 mtu ${mtu} type veth peer name eth0 mtu ${mtu} netns ${c}`,
          `link add eth1 mtu ${smtu} type veth peer name eth0 mtu ${smtu} netns ${s}`,
          'link set eth0 up',
          'link set eth1 up',
        ],
        `creating the router ${r}`,
      );
      await Promise.all([ipBatch(c, ['link set eth0 up'], `bringing up eth0 in ${c}`), ipBatch(s, ['link set eth0 up'], `bringing up eth0 in ${s}`)]);
      await ipBatch(
        r,
        [
          'addr add 10.0.1.2/24 dev eth0',
          'addr add fd00:1::2/64 dev eth0 nodad',
          'addr add 10.0.2.1/24 dev eth1',
          'addr add fd00:2::1/64 dev eth1 nodad',
        ],
        `addressing the router ${r}`,
      );
      await Promise.all([
        ipBatch(
          c,
          ['addr add 10.0.1.1/24 dev eth0', 'addr add fd00:1::1/64 dev eth0 nodad', 'route add default via 10.0.1.2', 'route add default via fd00:1::2'],
          `addressing ${c}`,
        ),
        ipBatch(
          s,
          ['addr add 10.0.2.2/24 dev eth0', 'addr add fd00:2::2/64 dev eth0 nodad', 'route add default via 10.0.2.1', 'route add default via fd00:2::1'],
          `addressing ${s}`,
        ),
      ]);
      hosts.set('client', { role: 'client', netns: c, iface: 'eth0', addr4: '10.0.1.1', addr6: 'fd00:1::1', mtu });
      hosts.set('router', { role: 'router', netns: r, iface: 'eth0', addr4: '10.0.1.2', addr6: 'fd00:1::2', mtu });
      hosts.set('server', { role: 'server', netns: s, iface: 'eth0', addr4: '10.0.2.2', addr6: 'fd00:2::2', mtu: smtu });
      ifaces.set(c, ['eth0']);
      ifaces.set(r, ['eth0', 'eth1']);
      ifaces.set(s, ['eth0']);
      break;
    }
  }
  await waitUsable(ifaces);
  return { hosts, ifaces };
}

/** Wait until every veth has carrier and no IPv6 address is tentative (at most 5 s). */
async function waitUsable(ifaces: Map<string, string[]>): Promise<void> {
  const deadline = Date.now() + 5000;
  for (const [ns, list] of ifaces) {
    if (list.length === 0) continue;
    for (;;) {
      const links = await run(['ip', '-n', ns, '-o', 'link', 'show']);
      const tentative = await run(['ip', '-n', ns, '-6', '-o', 'addr', 'show', 'tentative']);
      const up = list.every((i) => new RegExp(`^\\d+: ${i}@[^:]*:.*LOWER_UP`, 'm').test(links.stdout));
      if (up && tentative.stdout.trim() === '') break;
      if (Date.now() > deadline) {
        throw new WirelabError('NETNS_FAILED', `interfaces ${list.join(', ')} in ${ns} did not come up within 5 s: ${links.stdout.trim()} ${tentative.stdout.trim()}`, { ns });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
