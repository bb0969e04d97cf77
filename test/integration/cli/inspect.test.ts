/**
 * `wirelab inspect` as users run it: every format gives the same annotation, stdin works like a file,
 * and a damaged file keeps what was readable (exit 0 with the fault named) or exits 2 when nothing was.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cliPath, root, runCli } from '../../support/cli.js';

const fx = (name: string): string => path.join(root, 'test/fixtures', name);

interface Inspect {
  format: string;
  linkType: number;
  packets: number;
  tcp: { client: string; server: string; packets: number; handshake: { complete: boolean }; close: { kind: string } }[];
  udp: { src: string; dst: string; datagrams: number; fragmented: number }[];
}

async function inspect(args: string[], input?: Buffer): Promise<{ code: number | null; json: Inspect | null; stderr: string }> {
  const r = await runCli(['inspect', ...args, '--json'], input ? { input } : {});
  return { code: r.code, json: r.stdout ? (JSON.parse(r.stdout) as Inspect) : null, stderr: r.stderr };
}

describe('wirelab inspect', () => {
  it('pcap, nanosecond pcap and pcapng of the same traffic give the same connections', async () => {
    const base = await inspect([fx('capture/lo-en10mb.pcap')]);
    expect(base.code).toBe(0);
    expect(base.json!.tcp.length).toBeGreaterThan(0);
    for (const f of ['capture/lo-en10mb.nsec.pcap', 'capture/lo-en10mb.pcapng', 'capture/lo-en10mb.nsec.pcapng']) {
      const other = await inspect([fx(f)]);
      expect(other.code, f).toBe(0);
      expect(other.json!.tcp, f).toEqual(base.json!.tcp);
      expect(other.json!.udp, f).toEqual(base.json!.udp);
    }
  });

  it('reads a capture from stdin (-) exactly as from the file', async () => {
    const file = fx('pcaps/udp4-lo.pcap');
    const a = await inspect([file]);
    const b = await inspect(['-'], readFileSync(file));
    expect(b.code).toBe(0);
    expect({ ...b.json!, file: null }).toEqual({ ...a.json!, file: null });
    expect(a.json!.udp.some((u) => u.fragmented > 0)).toBe(true);
  });

  it('a capture cut mid-record keeps every earlier packet, names the byte offset, exits 0', async () => {
    const whole = readFileSync(fx('pcaps/tcp4-lo.pcap'));
    const full = await inspect([fx('pcaps/tcp4-lo.pcap')]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-cut-'));
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    const r = await inspect([cut]);
    expect(r.code).toBe(0);
    expect(r.json!.packets).toBe(full.json!.packets - 1);
    expect(r.stderr).toMatch(/byte \d+/);
  });

  it('a file that is not a capture exits 2 with the formats it accepts; no stack trace', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-bad-'));
    const bad = path.join(dir, 'notes.pcap');
    writeFileSync(bad, 'this is not a capture at all\n');
    const r = await runCli(['inspect', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pcap/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a link type wirelab does not decode is named first; with nothing analysed, exit 2 and no report', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-lt-'));
    const wifi = path.join(dir, 'wifi.pcap');
    const b = Buffer.from(readFileSync(fx('pcaps/tcp4-lo.pcap')));
    b.writeUInt32LE(105, 20); // IEEE 802.11: the same bytes, a link type we do not read
    writeFileSync(wifi, b);
    for (const args of [[wifi], [wifi, '--json']]) {
      const r = await runCli(['inspect', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toMatch(/link type 105 \(IEEE802_11\).* is not one wirelab decodes/);
      expect(r.stderr).toContain('nothing could be analysed');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a pcapng with one interface of an unknown link type says so before the report of the rest, exit 0', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-lt-'));
    const mixed = path.join(dir, 'mixed.pcapng');
    const b = Buffer.from(readFileSync(fx('capture/merged-2if.pcapng')));
    // The second Interface Description Block (type 1): its link type becomes 105.
    let idbs = 0;
    for (let off = 0; off + 12 <= b.length; off += b.readUInt32LE(off + 4)) {
      if (b.readUInt32LE(off) === 1 && ++idbs === 2) b.writeUInt16LE(105, off + 8);
    }
    expect(idbs).toBe(2);
    writeFileSync(mixed, b);
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${cliPath}" inspect "${mixed}" 2>&1`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const note = r.stdout.indexOf('link type 105 (IEEE802_11)');
    expect(note).toBeGreaterThanOrEqual(0);
    expect(r.stdout.indexOf('TCP #0')).toBeGreaterThan(note);
  });

  it('--stream N shows one connection; a stream that does not exist is a usage error', async () => {
    const ok = await runCli(['inspect', fx('pcaps/tcp4-lo.pcap'), '--stream', '0']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('TCP #0');
    const bad = await runCli(['inspect', fx('pcaps/tcp4-lo.pcap'), '--stream', '99']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--stream 99');
  });
});
