/** `wirelab udp` as a user runs it: bad numbers rejected before anything runs, --json a stable object. */
import { describe, expect, it } from 'vitest';
import { isRoot, runCli } from '../../support/cli.js';

describe('wirelab udp', () => {
  it.each([
    [['--size', '65508'], /EMSGSIZE/],
    [['--rate=-5'], /--rate/],
    [['--rate', 'fast'], /--rate/],
    [['--loss', '150%'], /above 100%/],
    [['--count', '0'], /--count/],
    [['--topology', 'mesh'], /--topology/],
    [['--pace'], /--rate/],
  ])('%j exits 2 naming the value, before anything runs', async (args, words) => {
    const r = await runCli(['udp', ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(words);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it.skipIf(!isRoot)('--json prints the stable object', async () => {
    const r = await runCli(['udp', '--count', '500', '--size', '200', '--rate', '5k', '--rcvbuf', '1m', '--json', '--out', '/tmp/wirelab-udp-cli-test']);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(o)).toEqual(['params', 'sender', 'receiver', 'rcvbuf', 'attribution', 'fragments', 'counters', 'capture', 'kernelReasons', 'durationMs']);
    expect(Object.keys(o.receiver!)).toEqual(['address', 'received', 'lost', 'lossPercent', 'lossText', 'outOfOrder', 'duplicates', 'jitterMs', 'foreign', 'cpuMs']);
    expect(Object.keys(o.attribution!)).toEqual(['lost', 'causes', 'explained', 'unexplained', 'notes']);
    expect((o.attribution!.causes as { cause: string }[]).map((c) => c.cause)).toEqual(['send-error', 'before-receiver', 'injected-loss', 'reassembly', 'receive-buffer']);
    expect(o.sender!.attempted).toBe(500);
    expect(o.rcvbuf!.effective).toBe(2 << 20);
  });

  it.skipIf(!isRoot)('the text report leads with the iperf3 numbers and says whether the causes add up', async () => {
    const r = await runCli(['udp', '--count', '1000', '--size', '100', '--rcvbuf', '4k', '--work-us', '50', '--out', '/tmp/wirelab-udp-cli-test']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/receiver\s+\d+ received\s+lost \d+\/1000 \([\d.]+%\)\s+out of order \d+\s+duplicates \d+\s+jitter [\d.]+ ms/);
    expect(r.stdout).toContain('the receive buffer was full');
    expect(r.stdout).toMatch(/unexplained\s+0/);
    expect(r.stdout).toContain('8192 bytes');
  });
});
