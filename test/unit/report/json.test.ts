/** The inspect JSON contract of DESIGN.md: field names, order and types, nothing more. */
import { expect, test } from 'vitest';
import { Conv, SYN, ACK, FIN, analyzeFrames, udpFrame } from '../analyze/build.js';
import { inspectJsonText, toInspectJson } from '../../../src/report/json.js';

test('toInspectJson has exactly the DESIGN.md fields, in order, with the right types', () => {
  const k = new Conv().cs(0, SYN, 100, 0).sc(0.001, SYN | ACK, 200, 101).cs(0.002, ACK, 101, 201)
    .cs(0.01, FIN | ACK, 101, 201).sc(0.011, FIN | ACK, 201, 102).cs(0.012, ACK, 102, 202);
  const a = analyzeFrames([...k.frames, udpFrame(0.02, '10.0.0.1:5000', '10.0.0.2:6000', 10)]);
  const j = JSON.parse(JSON.stringify(toInspectJson(a)));
  expect(Object.keys(j)).toEqual(['file', 'format', 'linkType', 'packets', 'decodeErrors', 'truncated', 'tcp', 'udp']);
  expect(j).toMatchObject({ file: 'test.pcap', format: 'pcap', linkType: 1, packets: 7, decodeErrors: 0, truncated: 0 });
  const t = j.tcp[0];
  expect(Object.keys(t)).toEqual(['id', 'client', 'server', 'packets', 'bytes', 'handshake', 'close', 'timeWait', 'retransmissions', 'resets', 'states']);
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
