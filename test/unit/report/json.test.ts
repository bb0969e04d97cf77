/**
 * The inspect JSON contract of DESIGN.md: field names, order and types, nothing more; and the
 * fast streaming writer held to the one object writer, field by field.
 */
import { expect, test } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { Conv, SYN, ACK, FIN, RST, analyzeFrames, udpFrame } from '../analyze/build.js';
import { inspectJsonText, tcpJson, tcpJsonLine, toInspectJson, type InspectTcpJson } from '../../../src/report/json.js';
import { JsonBytes } from '../../../src/report/json-bytes.js';
import { tcpConnections } from '../../../src/analyze/analyzer.js';
import { inspectStream } from '../../../src/analyze/pipeline.js';
import { openCaptureFile } from '../../../src/capture/read.js';

test('toInspectJson has exactly the DESIGN.md fields, in order, with the right types', () => {
  const k = new Conv().cs(0, SYN, 100, 0).sc(0.001, SYN | ACK, 200, 101).cs(0.002, ACK, 101, 201)
    .cs(0.01, FIN | ACK, 101, 201).sc(0.011, FIN | ACK, 201, 102).cs(0.012, ACK, 102, 202);
  const a = analyzeFrames([...k.frames, udpFrame(0.02, '10.0.0.1:5000', '10.0.0.2:6000', 10)]);
  const j = JSON.parse(JSON.stringify(toInspectJson(a)));
  expect(Object.keys(j)).toEqual(['file', 'format', 'linkType', 'packets', 'decodeErrors', 'truncated', 'tcp', 'udp']);
  expect(j).toMatchObject({ file: 'test.pcap', format: 'pcap', linkType: 1, packets: 7, decodeErrors: 0, truncated: 0 });
  const t = j.tcp[0];
  expect(Object.keys(t)).toEqual(['id', 'client', 'server', 'packets', 'bytes', 'handshake', 'close', 'timeWait', 'retransmissions', 'resets', 'states', 'start', 'encapsulation']);
  expect(Object.keys(t.bytes)).toEqual(['client', 'server']);
  expect(Object.keys(t.handshake)).toEqual(['complete', 'clientIsn', 'serverIsn', 'synRetransmits', 'synAckRetransmits', 'rttMs']);
  expect(Object.keys(t.close)).toEqual(['kind', 'initiator']);
  expect(Object.keys(t.states)).toEqual(['client', 'server']);
  expect(t).toEqual({
    id: 0, client: '10.0.0.1:40000', server: '10.0.0.2:80', packets: 6, bytes: { client: 0, server: 0 },
    handshake: { complete: true, clientIsn: 100, serverIsn: 200, synRetransmits: 0, synAckRetransmits: 0, rttMs: 2 },
    close: { kind: 'three-way', initiator: 'client' }, timeWait: 'client', retransmissions: 0, resets: 0,
    states: {
      client: ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT'],
      server: ['CLOSED', 'LISTEN', 'SYN_RCVD', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'],
    },
    start: 'syn',
    encapsulation: [],
  });
  expect(j.udp).toEqual([{ src: '10.0.0.1:5000', dst: '10.0.0.2:6000', datagrams: 1, bytes: 10, fragmented: 0, incomplete: 0 }]);
  expect(Object.keys(j.udp[0])).toEqual(['src', 'dst', 'datagrams', 'bytes', 'fragmented', 'incomplete']);
});

test('the streamed text (inspectJsonText) parses to toInspectJson, with and without kept segments, whole and per stream', () => {
  const k = new Conv().cs(0, SYN, 100, 0).sc(0.001, SYN | ACK, 200, 101).cs(0.002, ACK, 101, 201)
    .cs(0.01, FIN | ACK, 101, 201).sc(0.011, FIN | ACK, 201, 102).cs(0.012, ACK, 102, 202)
    .cs(1, SYN, 5000, 0).cs(2, SYN, 5000, 0); // a second connection (new ISN), SYN resent
  const frames = [...k.frames, udpFrame(0.02, '10.0.0.1:5000', '10.0.0.2:6000', 10), udpFrame(0.03, '10.0.0.2:6000', '10.0.0.1:5000', 3)];
  for (const keep of [true, false]) {
    const want = toInspectJson(analyzeFrames(frames, keep));
    expect(want.tcp.length).toBe(2);
    // Small pieces, so the joins between pieces are exercised too.
    const text = [...inspectJsonText(analyzeFrames(frames, keep), { chunkChars: 10 })].join('');
    expect(JSON.parse(text)).toEqual(want);
    expect(Object.keys(JSON.parse(text))).toEqual(Object.keys(want));
    const one = JSON.parse([...inspectJsonText(analyzeFrames(frames, keep), { stream: 1 })].join(''));
    expect(one).toEqual({ ...want, tcp: [want.tcp[1]] });
  }
  const none = analyzeFrames([], false);
  expect(JSON.parse([...inspectJsonText(none)].join(''))).toEqual(toInspectJson(none));
});

/** Every key of an object, depth first, with its path: the order matters in the contract too. */
function keyPaths(x: unknown, at = ''): string[] {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return [];
  return Object.entries(x as Record<string, unknown>).flatMap(([k, v]) => [`${at}${k}`, ...keyPaths(v, `${at}${k}.`)]);
}

/** The contract's TCP fields, as the one type InspectTcpJson spells them (the compiler checks this object). */
const CONTRACT: InspectTcpJson = {
  id: 0, client: '', server: '', packets: 0, bytes: { client: 0, server: 0 },
  handshake: { complete: false, clientIsn: null, serverIsn: null, synRetransmits: 0, synAckRetransmits: 0, rttMs: null },
  close: { kind: 'none', initiator: null }, timeWait: null, retransmissions: 0, resets: 0, states: { client: [], server: [] },
  start: 'syn', encapsulation: [],
};

test('the fast line writer writes what tcpJson writes, field by field, on real captures and odd connections', async () => {
  const files = ['tcp4-lo.pcap', 'tcp6-lo.pcap', 'tcp-sack-lo.pcap', 'tcp-tfo-lo.pcap', 'tcp4-sll2.pcap'].map((f) => join(import.meta.dirname, '../../fixtures/pcaps', f));
  // Encapsulations (GRE, PPPoE) and connections picked up at the SYN-ACK and mid-stream.
  files.push(...['gre.pcap', 'pppoe.pcap', 'after-syn.pcap'].map((f) => join(import.meta.dirname, '../../fixtures/wild', f)));
  const odd = new Conv('[fd00::1]:40000', '[fd00::2]:80')
    .cs(0, SYN, 4294967295, 0).sc(0.0012345678, SYN | ACK, 999999999, 0).cs(0.0031234567, ACK, 0, 1000000000)
    .cs(0.01, FIN | ACK, 0, 1000000000).sc(0.01, FIN | ACK, 1000000000, 0).cs(0.02, ACK, 1, 1000000001).sc(0.02, ACK, 1000000001, 1);
  const midstream = new Conv().cs(0, ACK, 5, 7, 10).sc(0.1, RST, 7, 0);
  const analyses = [analyzeFrames(odd.frames, false), analyzeFrames(odd.frames, true), analyzeFrames(midstream.frames, false)];
  for (const file of files) for (const keepSegments of [false, true]) analyses.push(await inspectStream(openCaptureFile(file), { file, keepSegments }));
  let checked = 0;
  for (const a of analyses) {
    const tcp = tcpConnections(a);
    for (let i = 0; i < tcp.count; i++) {
      const c = tcp.peek(i);
      const want = tcpJson(c);
      const got = JSON.parse(tcpJsonLine(c)) as InspectTcpJson;
      expect(keyPaths(got)).toEqual(keyPaths(CONTRACT));
      expect(keyPaths(want)).toEqual(keyPaths(CONTRACT));
      for (const k of keyPaths(CONTRACT)) expect(pick(got, k), `${a.file} #${i} ${k}`).toStrictEqual(pick(want, k));
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(8);
});

function pick(x: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], x);
}

test('the byte writer spells numbers as JSON.stringify does: integers, thousandths (the RTT), anything else', () => {
  const written = (write: (w: JsonBytes) => void): string => {
    const w = new JsonBytes(64);
    write(w);
    return w.take().toString('latin1');
  };
  const roundTrip = (x: number): void => {
    const r = Math.round(x * 1000) / 1000;
    expect(written((w) => w.thousandths(r)), `${x}`).toBe(JSON.stringify(r));
    expect(written((w) => w.num(x)), `${x}`).toBe(JSON.stringify(x));
  };
  for (const x of [0, -0, 0.0004, -0.0004, 0.0005, 0.049, 0.1, 1, 9.999, 10.0005, 123.456, 4294967295, 4294967296, 2 ** 53 - 1, 1e15, 1e21, -7.25, NaN, Infinity]) roundTrip(x);
  fc.assert(fc.property(fc.double({ min: -1e13, max: 1e13, noNaN: true }), (x) => roundTrip(x)), { numRuns: 20000 });
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 + 1000 }), (x) => roundTrip(x / 1000)), { numRuns: 20000 });
  fc.assert(fc.property(fc.maxSafeNat(), (x) => roundTrip(x)), { numRuns: 5000 });
});
