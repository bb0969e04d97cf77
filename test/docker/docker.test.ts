/**
 * The image as users run it (opt-in: WIRELAB_DOCKER_TEST=1; it builds the image, minutes).
 * Engine: `docker` when its daemon answers, else rootful `podman` (WIRELAB_DOCKER_ENGINE overrides).
 * Containers run with --network none (labs need only lo); compose runs on docker's own compose
 * network, or with podman-compose through test/docker/podman-netns.sh on two namespaces this
 * test makes (podman's bridge would touch the host's namespace).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, runProgram, type CliResult } from '../support/cli.js';
import { hostState } from '../support/host-state.js';

const ON = process.env.WIRELAB_DOCKER_TEST === '1';
// A docker client without a reachable daemon does not count.
const dockerWorks = (): boolean => spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
const ENGINE = process.env.WIRELAB_DOCKER_ENGINE ?? (ON && dockerWorks() ? 'docker' : 'podman');
const IMAGE = 'wirelab-test';
const OWNER = 1000; // a user who is not root: the captures folder's owner
const MINIMAL = ['--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW'];
const FULL = [...MINIMAL, '--cap-add', 'SYS_ADMIN', '--security-opt', 'systempaths=unconfined'];

const sh = (argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> => runProgram(argv, { timeoutMs: 300_000, ...opts });

function capturesDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-docker-'));
  chownSync(dir, OWNER, OWNER);
  return dir;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
}

const run = (flags: string[], dir: string, args: string[]): Promise<CliResult> =>
  sh([ENGINE, 'run', '--rm', '--network', 'none', ...flags, '-v', `${dir}:/app/captures`, IMAGE, ...args]);

describe.skipIf(!ON)(`the Docker image, built and run with ${ENGINE} (WIRELAB_DOCKER_TEST=1)`, () => {
  const dirs: string[] = [];
  let host0: Record<string, string> = {};
  beforeAll(async () => {
    host0 = hostState({ namespaces: false });
    // podman's default build network is its bridge (host iptables rules, ip_forward=1): build on the host's network.
    const b = await sh([ENGINE, 'build', ...(ENGINE === 'podman' ? ['--network', 'host'] : []), '-t', IMAGE, root], { timeoutMs: 1_800_000 });
    expect(b.code, b.stderr.slice(-3000)).toBe(0);
  }, 1_800_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });


  it('runs `run handshake` with only NET_ADMIN and NET_RAW: in the container\'s own namespace, said so, the pcap owned by the folder\'s owner', async () => {
    const dir = capturesDir();
    dirs.push(dir);
    const r = await run(MINIMAL, dir, ['run', 'handshake', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/own network namespace.*one at a time/);
    const report = JSON.parse(r.stdout) as { labs: { lab: string; verdict: string }[] };
    expect(report.labs.map((l) => [l.lab, l.verdict])).toEqual([['handshake', 'pass']]);
    const pcap = files(dir).find((f) => f.endsWith('handshake.pcap'));
    expect(pcap, files(dir).join(' ')).toBeDefined();
    expect(readFileSync(pcap!).readUInt32LE(0)).toBe(0xa1b2c3d4); // a classic pcap
    for (const f of files(dir)) expect([f, statSync(f).uid, statSync(f).gid]).toEqual([f, OWNER, OWNER]);
  }, 300_000);

  it('says which flag a two-host lab needs instead of failing obscurely', async () => {
    const dir = capturesDir();
    dirs.push(dir);
    const r = await run(MINIMAL, dir, ['capture', '--topology', 'veth', '--', 'true']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/two hosts.*--cap-add SYS_ADMIN/);
  }, 300_000);

  it('runs `run --all` with the README\'s full flags, each lab in namespaces of its own', async () => {
    const dir = capturesDir();
    dirs.push(dir);
    const r = await run(FULL, dir, ['run', '--all', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/one at a time/);
    const report = JSON.parse(r.stdout) as { labs: { lab: string; verdict: string; reason: string | null }[] };
    expect(report.labs.length).toBeGreaterThan(1);
    for (const l of report.labs) expect([l.lab, l.verdict, l.reason]).toEqual([l.lab, 'pass', null]);
    for (const f of files(dir)) expect(statSync(f).uid).toBe(OWNER);
  }, 600_000);

  it('compose.yaml: two containers, one connection seen from both ends with one-way delays', async () => {
    const dir = capturesDir();
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = { WIRELAB_CAPTURES: dir };
    const project = `wltest${process.pid}`;
    let compose: string[];
    const made: string[] = [];
    if (ENGINE === 'docker') {
      compose = ['docker', 'compose', '-p', project, '-f', path.join(root, 'compose.yaml')];
    } else {
      // Two namespaces joined by a veth pair stand in for the compose network (nothing on the host).
      const ns = { server: `wldock${process.pid}s`, client: `wldock${process.pid}c` };
      const ip = { server: '10.250.0.2', client: '10.250.0.1' };
      for (const n of Object.values(ns)) {
        expect((await sh(['ip', 'netns', 'add', n])).code).toBe(0);
        made.push(n);
        await sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
      }
      await sh(['ip', '-n', ns.client, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.server]);
      for (const role of ['client', 'server'] as const) {
        await sh(['ip', '-n', ns[role], 'addr', 'add', `${ip[role]}/24`, 'dev', 'eth0']);
        await sh(['ip', '-n', ns[role], 'link', 'set', 'eth0', 'up']);
        env[`WIRELAB_SHIM_NS_${role}`] = ns[role];
        env[`WIRELAB_SHIM_IP_${role}`] = ip[role];
      }
      compose = ['podman-compose', '--podman-path', path.join(root, 'test/docker/podman-netns.sh'), '-p', project, '-f', path.join(root, 'compose.yaml')];
    }
    try {
      const up = await sh([...compose, 'up', '--build', '--abort-on-container-exit', '--exit-code-from', 'client'], { env, timeoutMs: 900_000 });
      expect(up.code, up.stdout.slice(-4000) + up.stderr.slice(-2000)).toBe(0);
      expect(up.stdout).toMatch(/paired by the same ISNs at both ends/);
      const out = path.join(dir, 'two-hosts');
      for (const f of ['client.pcap', 'server.pcap', 'two-ends.json']) expect(existsSync(path.join(out, f)), f).toBe(true);
      const merged = JSON.parse(readFileSync(path.join(out, 'two-ends.json'), 'utf8')) as {
        connections: { pairedBy: string; oneWay: Record<string, { count: number; minMs: number }>; unseen: Record<string, number>; states: Record<string, string[]> }[];
      };
      expect(merged.connections).toHaveLength(1);
      const c = merged.connections[0]!;
      expect(c.pairedBy).toBe('isn');
      // SYN, ACK, data, FIN, last ACK one way; SYN-ACK, ACK, FIN the other: all seen at both ends.
      expect(c.oneWay.clientToServer!.count).toBeGreaterThanOrEqual(4);
      expect(c.oneWay.serverToClient!.count).toBeGreaterThanOrEqual(2);
      expect(c.unseen).toEqual({ clientToServer: 0, serverToClient: 0 });
      // One machine, one clock: a segment never arrives before it was sent.
      expect(c.oneWay.clientToServer!.minMs).toBeGreaterThanOrEqual(0);
      expect(c.oneWay.serverToClient!.minMs).toBeGreaterThanOrEqual(0);
      expect(c.states.client.at(-1)).toBe('TIME_WAIT');
      expect(c.states.server).toContain('LAST_ACK');
      for (const f of files(dir)) expect(statSync(f).uid).toBe(OWNER);
    } finally {
      await sh([...compose, 'down'], { env });
      for (const n of made) await sh(['ip', 'netns', 'del', n]);
    }
  }, 1_200_000);

  // Last: everything above ran.
  it('left the host\'s network namespace as it found it (no engine bridge, rules or ip_forward)', () => {
    expect(hostState({ namespaces: false })).toEqual(host0);
  });
});
