/**
 * `wirelab peer server|client` as compose.yaml runs them, without containers: two network
 * namespaces joined by a veth pair stand in for the two containers on their compose network.
 * Real sockets, real tcpdump at both ends, one merged report.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_NETNS_INO, ownNetnsInode } from '../../../src/sandbox/container-mode.js';
import { isRoot, runCli } from '../../support/cli.js';

const NS = { client: `wlpeer${process.pid}c`, server: `wlpeer${process.pid}s` };
const IP = { client: '10.251.0.1', server: '10.251.0.2' };
const OWNER = 1000;

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

/** Only where the test itself runs in the host's namespace (not when CI runs inside a container). */
const inHostNetns = ownNetnsInode() === HOST_NETNS_INO;

describe.skipIf(!isRoot)('wirelab peer: one connection between two hosts, captured at both ends and merged', () => {
  beforeAll(() => {
    for (const n of Object.values(NS)) {
      ip(['netns', 'add', n]);
      ip(['-n', n, 'link', 'set', 'lo', 'up']);
    }
    ip(['-n', NS.client, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.server]);
    for (const r of ['client', 'server'] as const) {
      ip(['-n', NS[r], 'addr', 'add', `${IP[r]}/24`, 'dev', 'eth0']);
      ip(['-n', NS[r], 'link', 'set', 'eth0', 'up']);
    }
  });
  afterAll(() => {
    for (const n of Object.values(NS)) spawnSync('ip', ['netns', 'del', n]);
  });

  it('pairs the connection by its ISNs, every segment seen at both ends with a one-way delay >= 0; files belong to the folder\'s owner', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-peer-'));
    chownSync(dir, OWNER, OWNER);
    const out = path.join(dir, 'two-hosts');
    const inNs = (n: string): string[] => ['ip', 'netns', 'exec', n];
    const server = runCli(['peer', 'server', '--port', '7100', '--out', out, '--timeout', '30'], { prefix: inNs(NS.server) });
    const client = await runCli(['peer', 'client', IP.server, '--port', '7100', '--bytes', '3000', '--out', out, '--timeout', '30'], { prefix: inNs(NS.client) });
    const s = await server;
    expect(client.code, client.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    expect(client.stdout).toMatch(/paired by the same ISNs at both ends/);
    expect(client.stdout).toMatch(/one-way delay client -> server: \d+ segment/);

    const merged = JSON.parse(readFileSync(path.join(out, 'two-ends.json'), 'utf8')) as {
      connections: {
        client: string;
        server: string;
        pairedBy: string;
        segments: { from: string; delayMs: number | null; clientPacket: number | null; serverPacket: number | null }[];
        unseen: Record<string, number>;
        rttMs: { client: number | null; server: number | null };
        states: Record<string, string[]>;
      }[];
    };
    expect(merged.connections).toHaveLength(1);
    const c = merged.connections[0]!;
    expect([c.client.split(':')[0], c.server]).toEqual([IP.client, `${IP.server}:7100`]);
    expect(c.pairedBy).toBe('isn');
    expect(c.unseen).toEqual({ clientToServer: 0, serverToClient: 0 });
    expect(c.segments.length).toBeGreaterThanOrEqual(8);
    for (const seg of c.segments) {
      expect(seg.clientPacket).not.toBeNull();
      expect(seg.serverPacket).not.toBeNull();
      // One kernel, one clock: never received before it was sent; a veth hop takes well under 50 ms.
      expect(seg.delayMs).toBeGreaterThanOrEqual(0);
      expect(seg.delayMs).toBeLessThan(50);
    }
    expect(c.rttMs.client).toBeGreaterThan(0);
    expect(c.states.client).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(c.states.server.at(-1)).toBe('CLOSED');
    expect(c.states.server).toContain('LAST_ACK');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
    expect(files.map((f) => path.basename(f)).sort()).toEqual(['client.pcap', 'server.pcap', 'two-ends.json', 'two-hosts']);
    for (const f of files) expect([f, statSync(f).uid]).toEqual([f, OWNER]);

    // The same merge from the files alone, no root needed.
    const again = await runCli(['merge', path.join(out, 'client.pcap'), path.join(out, 'server.pcap'), '--json']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as typeof merged).connections[0]!.segments.length).toBe(c.segments.length);
  }, 90_000);

  it.runIf(inHostNetns)('refuses to run in the host\'s network namespace (exit 3)', async () => {
    const r = await runCli(['peer', 'server', '--port', '7102', '--timeout', '2']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/never in the host's/);
  });
});
