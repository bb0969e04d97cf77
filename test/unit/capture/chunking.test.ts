// Streaming: the same capture fed 1 byte at a time, 7 bytes at a time, in odd mixed pieces and
// whole gives identical records and summaries; a live stream (a pipe that stays open, and a
// real `tcpdump -w -` in a throwaway namespace) gets each record as soon as its bytes arrive.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readCapture } from '../../../src/capture/read.js';
import type { PacketRecord } from '../../../src/capture/record.js';
import { blocks, classicRecordOffsets, classicToBigEndian, fixture, pcapngToBigEndian, plain, readBuffer } from './read-helpers.js';

const lo = fixture('lo-en10mb.pcap');
const INPUTS = [
  ['lo-en10mb.pcap via pcap-parser', lo, { classicEngine: 'pcap-parser' as const }],
  ['lo-en10mb.pcap via wirelab', lo, { classicEngine: 'wirelab' as const }],
  ['lo-en10mb.nsec.pcap', fixture('lo-en10mb.nsec.pcap'), {}],
  ['big-endian any-sll2.pcap', classicToBigEndian(fixture('any-sll2.pcap')), {}],
  ['lo-en10mb.nsec.pcapng', fixture('lo-en10mb.nsec.pcapng'), {}],
  ['big-endian merged-2if.pcapng', pcapngToBigEndian(fixture('merged-2if.pcapng')), {}],
] as const;

describe('chunk boundaries do not matter', () => {
  for (const [name, buf, opts] of INPUTS) {
    it(name, async () => {
      const whole = await readBuffer(buf, opts, buf.length);
      expect(whole.recs.length).toBeGreaterThan(20);
      for (const sizes of [1, 7, [1, 3, 16, 4093, 2, 65536]]) {
        const r = await readBuffer(buf, opts, sizes);
        expect(r.recs.map(plain), `${name} in chunks of ${String(sizes)}`).toEqual(whole.recs.map(plain));
        expect(r.summary).toEqual(whole.summary);
        expect(r.headers).toEqual(whole.headers);
      }
    });
  }
});

/** Resolves when the sink has seen `n` records. */
function counter() {
  const seen: PacketRecord[] = [];
  let want = 0;
  let wake: () => void = () => {};
  return {
    sink: {
      onRecord(r: PacketRecord) {
        const data = Buffer.from(r.data);
        seen.push({ ...r, chunk: data, offset: 0, data });
        if (seen.length >= want) wake();
      },
    },
    seen,
    until(n: number) {
      want = n;
      return seen.length >= n ? Promise.resolve() : new Promise<void>((r) => (wake = r));
    },
  };
}

describe('live stream: records as soon as their bytes arrive', () => {
  const ng = fixture('lo-en10mb.pcapng');
  const cases = [
    ['classic via pcap-parser', lo, classicRecordOffsets(lo), { classicEngine: 'pcap-parser' as const }],
    ['classic via wirelab', lo, classicRecordOffsets(lo), { classicEngine: 'wirelab' as const }],
    ['pcapng', ng, blocks(ng).filter((b) => b.type === 6).map((b) => b.offset), {}],
  ] as const;
  for (const [name, buf, starts, opts] of cases) {
    it(name, async () => {
      const pipe = new PassThrough();
      const c = counter();
      const done = readCapture(pipe, c.sink, opts);
      // Header + 3 records, then half of the 4th: exactly 3 records must come while the pipe is open.
      pipe.write(buf.subarray(0, starts[3]! + 10));
      await c.until(3);
      await new Promise((r) => setTimeout(r, 20));
      expect(c.seen.length).toBe(3);
      pipe.write(buf.subarray(starts[3]! + 10, starts[5]!));
      await c.until(5);
      pipe.end(buf.subarray(starts[5]!));
      const s = await done;
      expect(s.packets).toBe(starts.length);
      expect(s.faults).toEqual([]);
    });
  }

  const canCapture = process.getuid?.() === 0 && spawnSync('tcpdump', ['--version']).status === 0 && spawnSync('unshare', ['--version']).status === 0;
  it.runIf(canCapture)('a real tcpdump -w - in a throwaway namespace: records arrive while tcpdump still runs', async () => {
    // tcpdump writes to stdout; traffic is a TCP connection made by node in the same namespace;
    // tcpdump keeps running ~1.5 s after the traffic before it is stopped.
    const traffic = `const net=require('net');const s=net.createServer(c=>c.end('bye'));s.listen(0,'127.0.0.1',()=>{const c=net.connect(s.address().port,'127.0.0.1');c.on('data',()=>{});c.on('close',()=>s.close());})`;
    const script = `ip link set lo up
tcpdump -i lo -s 2048 -U --immediate-mode -w - 2>"$T" &
p=$!
for i in $(seq 200); do grep -q 'listening on' "$T" && break; sleep 0.02; done
node -e "$1"
sleep 1.5
kill -INT $p; wait $p`;
    const errFile = `/tmp/wirelab-read-live-${process.pid}.err`;
    const child = spawn('unshare', ['--net', 'sh', '-c', script, 'sh', traffic], { env: { ...process.env, T: errFile }, stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => {
      child.kill('SIGKILL');
      rmSync(errFile, { force: true });
    });
    const exited = new Promise<number>((r) => child.on('exit', () => r(Date.now())));
    const c = counter();
    let firstAt = 0;
    const sink = { onRecord: (r: PacketRecord) => { firstAt ||= Date.now(); c.sink.onRecord(r); } };
    const s = await readCapture(child.stdout, sink, {});
    const exitAt = await exited;
    expect(s.faults).toEqual([]);
    expect(s.format).toBe('pcap');
    expect(s.linkType).toBe(1);
    expect(s.packets).toBeGreaterThanOrEqual(6); // SYN, SYN-ACK, ACK, data, FINs
    expect(c.seen.length).toBe(s.packets);
    // the SYN reached the sink long before tcpdump stopped
    expect(exitAt - firstAt).toBeGreaterThan(1000);
  });
});
