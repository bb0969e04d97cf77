/**
 * Captures from the wild (issue 14), each a small real capture in test/fixtures/wild (made by
 * make-wild.sh from real traffic between two namespaces; see there which framings are re-made
 * by reframe.mjs), read by `inspect` and compared with tshark connection by connection: sides,
 * handshake, close kind and initiator, TIME_WAIT side, packets, retransmissions, resets. The
 * tshark view is committed beside each file (FILE.tshark.tsv); where tshark is installed, the
 * first test checks that the committed view is still what tshark prints.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../../src/analyze/model.js';
import { inspectStream } from '../../../src/analyze/pipeline.js';
import { openCaptureFile } from '../../../src/capture/read.js';
import { toInspectJson, type InspectTcpJson } from '../../../src/report/json.js';
import { renderText } from '../../../src/report/text.js';
import { which } from '../../../src/sandbox/command.js';
import { describeStream, oracleStreams, type OracleStream } from './wild-oracle.js';

const WILD = fileURLToPath(new URL('../../fixtures/wild/', import.meta.url));

/** file, what it holds, the link type, the TCP connections tshark finds in it. */
export const CASES: [string, string, number, number][] = [
  ['ipip.pcap', 'IPv4 in IPv4 (protocol 4)', 1, 1],
  ['sit.pcap', 'IPv6 in IPv4 (protocol 41, 6in4)', 1, 1],
  ['gre.pcap', 'GRE with a key, IPv4 and IPv6 inside', 1, 2],
  ['vxlan.pcap', 'VXLAN (UDP 4789, the kernel\'s vxlan device), IPv4 and IPv6 inside', 1, 2],
  ['teredo.pcap', 'Teredo (UDP 3544), IPv6 inside', 1, 1],
  ['pppoe.pcap', 'PPPoE session frames (Ethernet 0x8864), IPv4 and IPv6', 1, 2],
  ['nflog.pcap', 'NFLOG (tcpdump -i nflog:5), IPv4 and IPv6', 239, 2],
  ['ppp.pcap', 'PPP (link type 9)', 9, 1],
  ['chdlc.pcap', 'Cisco HDLC (link type 104)', 104, 1],
  ['fddi.pcap', 'FDDI with 802.2 LLC/SNAP (link type 10)', 10, 1],
  ['ipoib.pcap', 'IP over InfiniBand (link type 242)', 242, 1],
  ['cut-by-device.pcap', 'frames cut by the capture device (IP total length > frame length)', 1, 1],
  ['bad-ts-option.pcap', 'a SYN whose timestamps option has length 8', 1, 1],
];

export async function inspectFile(file: string): Promise<{ analysis: Analysis; tcp: InspectTcpJson[] }> {
  const analysis = await inspectStream(openCaptureFile(file), { file, keepSegments: false });
  return { analysis, tcp: toInspectJson(analysis).tcp };
}

const FIELDS: [string, (t: OracleStream) => unknown, (o: InspectTcpJson) => unknown][] = [
  ['client', (t) => t.client, (o) => o.client],
  ['server', (t) => t.server, (o) => o.server],
  ['handshake.complete', (t) => t.complete, (o) => o.handshake.complete],
  ['handshake.synRetransmits', (t) => t.synRetransmits, (o) => o.handshake.synRetransmits],
  ['handshake.synAckRetransmits', (t) => t.synAckRetransmits, (o) => o.handshake.synAckRetransmits],
  ['close.kind', (t) => t.kind, (o) => o.close.kind],
  ['close.initiator', (t) => t.initiator, (o) => o.close.initiator],
  ['timeWait', (t) => t.timeWait, (o) => o.timeWait],
  ['packets', (t) => t.packets.length, (o) => o.packets],
  ['retransmissions', (t) => t.retransmissions, (o) => o.retransmissions],
  ['resets', (t) => t.resets, (o) => o.resets],
];

/** Every disagreement, as lines naming the stream, the field and both values. */
export async function compareWithTshark(name: string): Promise<{ lines: string[]; streams: OracleStream[]; tcp: InspectTcpJson[]; analysis: Analysis }> {
  const file = WILD + name;
  const streams = oracleStreams(`${file}.tshark.tsv`);
  const { analysis, tcp } = await inspectFile(file);
  const base = analysis.firstTime ?? 0;
  const first = new Map(analysis.tcp.map((c) => [c.id, (base + c.firstTime) * 1e6]));
  const used = new Set<number>();
  const lines: string[] = [];
  for (const t of streams) {
    const o = tcp.find((x) => !used.has(x.id) && ((x.client === t.client && x.server === t.server) || (x.client === t.server && x.server === t.client)) && Math.abs(first.get(x.id)! - t.firstUs) <= 2);
    if (!o) {
      lines.push(`tshark stream ${t.stream} ${t.client} -> ${t.server} has no wirelab connection: ${describeStream(t)}`);
      continue;
    }
    used.add(o.id);
    const diffs = FIELDS.filter(([, ft, fo]) => ft(t) !== fo(o)).map(([f, ft, fo]) => `${f}: tshark ${String(ft(t))}, wirelab ${String(fo(o))}`);
    if (diffs.length) lines.push(`tshark stream ${t.stream} = wirelab #${o.id}: ${diffs.join('; ')}\n    ${describeStream(t)}`);
  }
  for (const o of tcp) if (!used.has(o.id)) lines.push(`wirelab connection #${o.id} ${o.client} -> ${o.server} (${o.packets} packets) has no tshark stream`);
  return { lines, streams, tcp, analysis };
}

const tshark = which('tshark');

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('captures from the wild: inspect agrees with tshark per connection', () => {
  it.skipIf(!tshark)('the committed tshark views are what tshark prints for each file (test/fixtures/wild/tshark-fields.sh)', async () => {
    const names = [...CASES.map((c) => c[0]), 'after-syn.pcap', 'crossed-fin.pcap', 'rst-after-fins.pcap', 'rst-ends-time-wait.pcap', 'synack-data.pcap'];
    const views = await Promise.all(names.map((name) => run('bash', [WILD + 'tshark-fields.sh', WILD + name])));
    names.forEach((name, i) => {
      expect(views[i]!.code, views[i]!.stderr).toBe(0);
      expect(views[i]!.stdout, `${name}.tshark.tsv is stale: re-mint with make-wild.sh`).toBe(readFileSync(`${WILD + name}.tshark.tsv`, 'utf8'));
    });
  }, 60_000);

  it.each(CASES)('%s (%s)', async (name, _what, linkType, connections) => {
    const { lines, streams, tcp, analysis } = await compareWithTshark(name);
    expect(analysis.linkType).toBe(linkType);
    expect(streams.length, 'connections tshark finds').toBe(connections);
    expect(tcp.length, 'connections wirelab finds').toBe(connections);
    expect(lines, lines.join('\n')).toEqual([]);
    // What the fixture is about actually happened (so the comparison above means something).
    expect(streams.every((s) => s.complete && s.kind !== 'none'), 'complete handshakes and closes').toBe(true);
  });

  it.each(CASES)('%s: every packet lands in the connection tshark puts it in', async (name) => {
    const streams = oracleStreams(`${WILD + name}.tshark.tsv`);
    const a = await inspectStream(openCaptureFile(WILD + name), { file: name, keepSegments: true });
    const ours = new Map<number, number>();
    for (const c of a.tcp) for (const seg of c.segments) ours.set(seg.packet, c.id);
    const pairs = new Set<string>();
    for (const t of streams) for (const p of t.packets) pairs.add(`${t.stream}->${ours.get(p.frame)}`);
    // One wirelab connection per tshark stream, and every packet of the stream in it.
    expect([...pairs].sort()).toEqual(streams.map((t) => `${t.stream}->${ours.get(t.packets[0]!.frame)}`).sort());
    expect(new Set([...pairs].map((x) => x.split('->')[1])).size).toBe(streams.length);
    expect([...ours.keys()].sort((x, y) => x - y)).toEqual(streams.flatMap((t) => t.packets.map((p) => p.frame)).sort((x, y) => x - y));
  });

  it('the fixtures carry the cases they are for', async () => {
    // A retransmission in every file but the IPv6 halves (one drop rule per capture).
    for (const [name] of CASES) {
      const streams = oracleStreams(`${WILD + name}.tshark.tsv`);
      expect(streams.reduce((a, s) => a + s.retransmissions, 0), name).toBeGreaterThan(0);
    }
    const cut = await inspectFile(WILD + 'cut-by-device.pcap');
    expect(cut.analysis.truncated, 'frames kept as truncated').toBeGreaterThan(0);
    expect(cut.analysis.decodeErrors).toBe(0);
    const bad = await inspectFile(WILD + 'bad-ts-option.pcap');
    expect(bad.analysis.errors.map((e) => [e.packet, e.layer])).toEqual([[1, 'tcp-option']]);
    expect(bad.tcp[0]!.handshake.complete).toBe(true);
  });
});

/**
 * The analyzer cases of issue 14 (real traffic, make-wild.sh sections aftersyn and crossedfin),
 * compared with tshark: sides and states from what the first segments prove (the client of a
 * capture starting at the SYN-ACK leaves CLOSED; a connection picked up mid-stream starts
 * ESTABLISHED, marked assumed), and a transition only with the segment that proves it (the side
 * that never acknowledged the crossing FIN is not taken through CLOSING to TIME_WAIT).
 */
describe('captures from the wild: analyzer cases', () => {
  it('after-syn.pcap, a capture that starts after the SYN', async () => {
    // Connection 1 (port 8080) was established and used before the capture: picked up
    // mid-stream. Connection 2 (port 8081) begins with the server's retransmitted SYN-ACK.
    const { lines, tcp } = await compareWithTshark('after-syn.pcap');
    expect(lines, lines.join('\n')).toEqual([]);
    const [mid, late] = [tcp.find((c) => c.server.endsWith(':8080'))!, tcp.find((c) => c.server.endsWith(':8081'))!];
    // Sides from what the first segments prove; both sides ESTABLISHED mid-stream (assumed, not seen).
    expect(mid.client).toBe('10.9.0.1:' + mid.client.split(':')[1]);
    expect(mid.states.client[0]).toBe('ESTABLISHED');
    expect(mid.states.server[0]).toBe('ESTABLISHED');
    expect(late.client.startsWith('10.9.0.1:')).toBe(true); // the SYN-ACK's receiver
    expect(late.states.client).toEqual(['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    // Marked as assumed, not seen: in the JSON and in the text.
    expect([mid.start, late.start]).toEqual(['mid-stream', 'syn-ack']);
    const text = renderText(await inspectStream(openCaptureFile(WILD + 'after-syn.pcap'), { file: 'after-syn.pcap', keepSegments: true }), { ladder: false });
    expect(text).toContain("picked up mid-stream: the capture began after the handshake: both sides' ESTABLISHED is assumed, not seen");
    expect(text).toContain("picked up at the SYN-ACK: the client's SYN was not captured (its SYN_SENT is assumed, not seen)");
    // The server's FIN is the second one: the text no longer says the server closes first.
    expect(text).not.toContain('the server closes first');
    for (const c of [mid, late]) {
      expect(c.close).toEqual({ kind: 'three-way', initiator: 'client' });
      expect(c.timeWait).toBe('client');
      expect(c.states.client.at(-1)).toBe('TIME_WAIT');
    }
  });

  it('crossed-fin.pcap, crossed FINs and one never acknowledged', async () => {
    // The server's FIN and the client's cross; every server FIN is dropped at the client, which
    // never acknowledges one: the client ends in FIN_WAIT_2 (its own FIN acknowledged), the
    // server in CLOSING (the client's FIN received, its own never acknowledged). Nobody proves TIME_WAIT.
    const { lines, tcp } = await compareWithTshark('crossed-fin.pcap');
    expect(lines, lines.join('\n')).toEqual([]);
    const [c] = tcp;
    expect(c!.close).toEqual({ kind: 'simultaneous', initiator: 'server' });
    expect(c!.timeWait).toBeNull();
    expect(c!.states.client.at(-1)).toBe('FIN_WAIT_2');
    expect(c!.states.client).not.toContain('CLOSING');
    expect(c!.states.server.at(-1)).toBe('CLOSING');
  });

  it('"already right" cases, compared with tshark: a RST after both FINs is a reset; a RST after a clean close ends TIME_WAIT; a SYN-ACK with data completes the handshake', async () => {
    // rst-after-fins.pcap: the client closes its socket; the server's data+FIN reaches it orphaned in FIN_WAIT_2: RST.
    const after = await compareWithTshark('rst-after-fins.pcap');
    expect(after.lines, after.lines.join('\n')).toEqual([]);
    expect(after.streams.map((s) => s.packets.filter((p) => p.flags & 0x01).length)).toEqual([2]); // both FINs sent
    expect(after.tcp.map((c) => [c.close.kind, c.close.initiator, c.timeWait, c.resets])).toEqual([['reset', 'client', null, 1]]);
    // rst-ends-time-wait.pcap: a clean close, then a RST at the TIME_WAIT socket's expected sequence
    // number (make-wild.sh checked that the client's TIME_WAIT socket was gone after it).
    const tw = await compareWithTshark('rst-ends-time-wait.pcap');
    expect(tw.lines, tw.lines.join('\n')).toEqual([]);
    const [c] = tw.tcp;
    expect([c!.close.kind, c!.close.initiator, c!.timeWait, c!.resets]).toEqual(['three-way', 'client', null, 1]);
    expect(c!.states.client.slice(-2)).toEqual(['TIME_WAIT', 'CLOSED']);
    // synack-data.pcap: a SYN-ACK carrying 5 bytes (made on a raw socket; Linux drops them and acknowledges the SYN only).
    const sa = await compareWithTshark('synack-data.pcap');
    expect(sa.lines, sa.lines.join('\n')).toEqual([]);
    expect(sa.streams[0]!.packets[1]).toMatchObject({ flags: 0x12, len: 5 });
    expect(sa.tcp[0]!.handshake.complete).toBe(true);
    expect(sa.tcp[0]!.states.client.slice(0, 3)).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED']);
  });

  it('their tshark views hold the cases (the SYN-ACK first, a stream without SYN, a FIN never acknowledged)', () => {
    const after = oracleStreams(`${WILD}after-syn.pcap.tshark.tsv`);
    expect(after.map((s) => s.packets[0]!.flags)).toEqual([0x18, 0x12]); // data first; SYN-ACK first
    expect(after.map((s) => [s.kind, s.initiator, s.timeWait])).toEqual([['three-way', 'client', 'client'], ['three-way', 'client', 'client']]);
    const crossed = oracleStreams(`${WILD}crossed-fin.pcap.tshark.tsv`);
    expect(crossed.map((s) => [s.kind, s.initiator, s.timeWait])).toEqual([['simultaneous', 'server', null]]);
  });
});
