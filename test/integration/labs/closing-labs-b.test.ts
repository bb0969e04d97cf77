/**
 * The closing labs lost-last-ack (C09), simultaneous-close (C11) and rst (C12), run for real through
 * the CLI (real namespaces, sockets, tcpdump, nftables faults, Python helpers) in one run per family:
 * each lab's verdict, each claim's verdict, and the measured values their evidence must carry.
 */
import { describe, expect, it } from 'vitest';
import { isRoot, runCli } from '../../support/cli.js';
import { runLabs } from '../../support/lab-run.js';

const LABS = ['lost-last-ack', 'simultaneous-close', 'rst'];
const EXPECTED: Record<string, string> = { C09: 'confirmed', C11: 'differs', C12: 'differs' };

describe.skipIf(!isRoot)('the closing labs, part B (needs root)', () => {
  for (const family of [4, 6] as const) {
    it(`lost-last-ack, simultaneous-close and rst pass over IPv${family} with C09 confirmed, C11 and C12 differing`, async () => {
      const r = await runLabs(LABS, family, { jobs: 3, timeoutMs: 280_000, tag: 'close-b' });
      const { labs, failed } = r;
      expect(failed, r.stderr).toEqual([]);
      expect(labs.map((l) => [l.lab, l.family, l.verdict, l.reason])).toEqual(LABS.map((n) => [n, family, 'pass', null]));
      expect(r.code).toBe(0);
      expect(r.verdicts).toEqual(EXPECTED);
      const { claims } = r;
      // C09: the FIN went out 4 times (3 ACKs dropped) and the TIME_WAIT timer went back up to ~60 s.
      expect(claims.C09!.evidence).toMatch(/went out 4 times: packets \d+, \d+, \d+, \d+/);
      // (the watcher may sleep through a copy on a loaded machine; its last reading decides)
      expect(claims.C09!.evidence).toMatch(/went back up \d times/);
      expect(claims.C09!.evidence).toMatch(/after the last copy it ended -?0\.\d{3} s from that copy \+ 60 s, 0\.[4-9]\d\d s later than 60 s after the first/);
      // C11: the crossed close went CLOSING on both sides; the unfaulted close-at-once was ordinary.
      expect(claims.C11!.differs!.measured).toMatch(/^B \(FINs made to cross\): CLOSING and TIME_WAIT on both sides; A \(both end\(\) at once, no faults\): FINs [\d.]+ ms apart, round trip [\d.]+ ms, a (three|four)-way close$/);
      expect(claims.C11!.evidence).toContain('/proc showed the client ESTABLISHED -> FIN_WAIT_1 -> CLOSING -> TIME_WAIT');
      // C12: all eight flag bits in this run's capture; the urgent byte never reached the node reader.
      expect(claims.C12!.differs!.measured).toBe('flags seen: FIN, SYN, RST, PSH, ACK, URG, ECE, CWR; 101 bytes sent with one urgent, 100 read');
      for (const l of labs) expect(l.story, l.lab).toMatch(/\d/);
    }, 300_000);
  }
});

describe('lost-last-ack refuses bad params before anything runs', () => {
  it('lostAcks out of range: exit 2 naming the range', async () => {
    const r = await runCli(['run', 'lost-last-ack', '--param', 'lostAcks=9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lostAcks must be within 1..5');
    expect(r.stdout).toBe('');
  });
});
