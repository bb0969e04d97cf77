/**
 * End to end on a real kernel: a throwaway network namespace (unshare --net), tcpdump on its lo,
 * real node sockets (fixtures/real-conns.mjs). inspectStream's facts are checked, then compared
 * with tshark on the same file: stream count, per-stream retransmissions and resets, close
 * initiator (first FIN or RST). Needs root, tcpdump and tshark; skipped otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspectStream } from '../../../src/analyze/pipeline.js';
import { openCaptureFile } from '../../../src/capture/read.js';
import type { Analysis } from '../../../src/analyze/model.js';
import { hasTshark } from './pcap-out.js';

function can(): boolean {
  try {
    execFileSync('which', ['tcpdump', 'unshare']);
    return process.getuid?.() === 0 && hasTshark();
  } catch {
    return false;
  }
}

const fixture = join(import.meta.dirname, 'fixtures', 'real-conns.mjs');

describe.skipIf(!can())('a real capture from a throwaway namespace', () => {
  let dir = '';
  let file = '';
  let a: Analysis;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wirelab-e2e-'));
    file = join(dir, 'real.pcap');
    // Everything runs inside the new namespace; it vanishes with the shell. tcpdump's readiness is
    // its "listening on" line (no fixed sleep); SIGINT flushes the file.
    const script = `set -e
ip link set lo up
tcpdump -i lo --immediate-mode -U -s 2048 -Z root -w '${file}' tcp 2>'${dir}/err' &
T=$!
trap 'kill -INT $T 2>/dev/null || true' EXIT
for i in $(seq 1 500); do grep -q 'listening on' '${dir}/err' && break; sleep 0.01; done
'${process.execPath}' '${fixture}'
kill -INT $T; wait $T || true
trap - EXIT`;
    execFileSync('unshare', ['--net', 'sh', '-c', script], { stdio: 'ignore', timeout: 30_000 });
    a = await inspectStream(openCaptureFile(file), { file, keepSegments: true });
  }, 40_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('our facts', () => {
    expect(a.format).toBe('pcap');
    expect(a.decodeErrors).toBe(0);
    expect(a.tcp.length).toBe(3);
    const [echo, greet, refused] = a.tcp;
    expect(echo!.handshake.complete).toBe(true);
    expect(echo!.handshake.rttMs).toBeGreaterThan(0);
    expect(echo!.handshake.serverOptions.mss).toBe(65495);
    expect(echo!.bytes).toEqual({ client: 5, server: 5 });
    expect(echo!.close.initiator).toBe('client');
    expect(['three-way', 'four-way']).toContain(echo!.close.kind);
    expect(echo!.timeWait).toBe('client');
    expect(echo!.states.client.at(-1)!.to).toBe('TIME_WAIT');
    expect(echo!.states.server.at(-1)!.to).toBe('CLOSED');
    expect(greet!.close.initiator).toBe('server');
    expect(greet!.timeWait).toBe('server');
    expect(refused!.close.kind).toBe('reset');
    expect(refused!.segments.at(-1)!.marks).toContain('rst-from-closed-port');
    expect(refused!.handshake.complete).toBe(false);
  });

  test('agrees with tshark: streams, retransmissions, resets, close initiator', () => {
    const rows = execFileSync('tshark', ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t', '-e', 'tcp.stream', '-e', 'tcp.srcport',
      '-e', 'tcp.analysis.retransmission', '-e', 'tcp.flags.reset', '-e', 'tcp.flags.fin'], { encoding: 'utf8' })
      .split('\n').filter((l) => l).map((l) => l.split('\t'));
    const streams = new Set(rows.map((r) => Number(r[0])));
    expect(a.tcp.length).toBe(streams.size);
    for (const c of a.tcp) {
      const mine = rows.filter((r) => Number(r[0]) === c.id);
      expect(c.packets).toBe(mine.length);
      expect(c.retransmissions).toBe(mine.filter((r) => r[2]).length);
      expect(c.resets).toBe(mine.filter((r) => r[3] === '1' || r[3] === 'True').length);
      const closer = mine.find((r) => r[4] === '1' || r[4] === 'True') ?? mine.find((r) => r[3] === '1' || r[3] === 'True');
      const initiator = closer === undefined ? null : Number(closer[1]) === c.clientPort ? 'client' : 'server';
      expect(c.close.initiator).toBe(initiator);
    }
  });
});
