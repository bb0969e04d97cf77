/**
 * Writes test frames as a classic microsecond pcap (link type 1) and asks tshark what it
 * makes of them: the differential oracle for tcp.stream and tcp.analysis.* semantics.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from './build.js';

export function pcapBytes(frames: Frame[]): Buffer {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20);
  const parts: Buffer[] = [gh];
  for (const f of frames) {
    const rh = Buffer.alloc(16);
    const sec = Math.floor(f.t);
    rh.writeUInt32LE(sec, 0);
    rh.writeUInt32LE(Math.round((f.t - sec) * 1e6), 4);
    rh.writeUInt32LE(f.bytes.length, 8);
    rh.writeUInt32LE(f.bytes.length, 12);
    parts.push(rh, f.bytes);
  }
  return Buffer.concat(parts);
}

export function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs tshark -T fields on the frames; one row (array of field strings) per packet. */
export function tsharkFields(frames: Frame[], fields: string[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-tshark-'));
  try {
    const file = join(dir, 't.pcap');
    writeFileSync(file, pcapBytes(frames));
    const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t'];
    for (const f of fields) args.push('-e', f);
    const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
