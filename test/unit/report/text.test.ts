/** The text report says the key things in plain words, and --stream filters. */
import { expect, test } from 'vitest';
import { Conv, SYN, ACK, FIN, PSH, analyzeFrames } from '../analyze/build.js';
import { renderText } from '../../../src/report/text.js';

const k = new Conv()
  .cs(0, SYN, 3626544836, 0, 0, { mss: 65495, wscale: 7, sackPerm: true, ts: [5, 0] }).cs(1.02, SYN, 3626544836, 0)
  .sc(1.02004, SYN | ACK, 1000, 3626544837).cs(1.02012, ACK, 3626544837, 1001)
  .cs(1.03, PSH | ACK, 3626544837, 1001, 5).sc(1.0301, ACK, 1001, 3626544842)
  .cs(1.04, FIN | ACK, 3626544842, 1001).sc(1.0401, ACK, 1001, 3626544843)
  .sc(1.05, FIN | ACK, 1001, 3626544843).cs(1.0501, ACK, 3626544843, 1002);
k.c = '10.0.0.1:40001';
k.cs(5, SYN, 42, 0);

test('per-connection header, tcpdump flags, meanings, states and ladder', () => {
  const text = renderText(analyzeFrames(k.frames));
  expect(text).toContain('SYN: the client opens, ISN 3626544836; client -> SYN_SENT');
  expect(text).toContain('SYN retransmitted after 1.02 s');
  expect(text).toMatch(/ACK of the SYN-ACK: handshake complete \(RTT 0\.\d+ ms\); client -> ESTABLISHED, server -> ESTABLISHED/);
  expect(text).toContain('FIN: the client closes first; client -> FIN_WAIT_1');
  expect(text).toContain('last ACK: the client acknowledges the server\'s FIN; client -> TIME_WAIT, server -> CLOSED');
  expect(text).toContain('close: four-way, initiated by the client; the client holds TIME_WAIT');
  expect(text).toContain('[S.]');
  expect(text).toContain('[F.]');
  expect(text).toContain('<mss 65495,sackOK,TS val 5 ecr 0,wscale 7>');
  expect(text).toContain('client states: CLOSED -> SYN_SENT -> ESTABLISHED -> FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT');
  expect(text).toMatch(/\|\\__ \[S\] seq 0/); // the ladder's first arrow
  expect(text).toContain('TCP #1');
});

test('--stream N shows only that connection', () => {
  const text = renderText(analyzeFrames(k.frames), { stream: 1 });
  expect(text).toContain('TCP #1');
  expect(text).not.toContain('TCP #0');
});
