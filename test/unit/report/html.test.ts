/**
 * The HTML report and Mermaid drawn from analyses of synthetic and real captures: one arrow per
 * segment, the connection limit (the first N with their segments from a second pass that keeps
 * only theirs, the rest counted), nothing fetched, and the terminal ladder's width and colour.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ACK, Conv, FIN, SYN, analyzeFrames, type Frame } from '../analyze/build.js';
import { pcapBytes } from '../analyze/pcap-out.js';
import { firstConnections } from '../../../src/analyze/first-connections.js';
import { inspectStream } from '../../../src/analyze/pipeline.js';
import { openCaptureFile } from '../../../src/capture/read.js';
import { reportFromCapture } from '../../../src/report/html/build.js';
import { renderHtml } from '../../../src/report/html/page.js';
import { renderLadderSvg } from '../../../src/report/html/ladder-svg.js';
import { renderPlots, renderUdpExperiments, renderUdpResult } from '../../../src/report/html/udp.js';
import { renderMermaid } from '../../../src/report/mermaid.js';
import { ladderStyleFor, renderLadder } from '../../../src/report/ladder.js';
import { toInspectJson } from '../../../src/report/json.js';

/** n short connections, interleaved two at a time; connection 1's 4-tuple is reused by the last one. */
function interleaved(n: number): Frame[] {
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const port = i === n - 1 ? 40001 : 40000 + i;
    const k = new Conv(`10.0.0.1:${port}`, '10.0.0.2:80');
    const t = i * 0.01;
    k.cs(t, SYN, 1000 * (i + 1), 0).sc(t + 0.001, SYN | ACK, 5000, 1000 * (i + 1) + 1).cs(t + 0.002, ACK, 1000 * (i + 1) + 1, 5001)
      .cs(t + 0.015, FIN | ACK, 1000 * (i + 1) + 1, 5001).sc(t + 0.016, FIN | ACK, 5001, 1000 * (i + 1) + 2).cs(t + 0.017, ACK, 1000 * (i + 1) + 2, 5002);
    frames.push(...k.frames);
  }
  return frames.sort((a, b) => a.t - b.t);
}

const arrows = (html: string): number => (html.match(/<g class="seg/g)?.length ?? 0) / 2; // wide + narrow drawing

describe('the first N connections of a capture', () => {
  it('are those of the full analysis, segments and all, while the rest keep no segments', async () => {
    const frames = interleaved(8);
    const full = analyzeFrames(frames);
    expect(full.tcp).toHaveLength(8);
    const { analysis, tcp } = await firstConnections(Readable.from([pcapBytes(frames)]), 'test.pcap', 3);
    expect(tcp).toHaveLength(3);
    expect(analysis.tcp.length).toBeLessThan(8);
    const strip = (a: typeof tcp) => a.map((c) => ({ ...c, segments: c.segments.map((s) => ({ ...s })) }));
    expect(strip(tcp)).toEqual(strip(full.tcp.slice(0, 3)));
    expect(toInspectJson({ ...full, tcp }).tcp).toEqual(toInspectJson(full).tcp.slice(0, 3));
  });

  it('are what the page draws past the limit, and it says how many it left out', async () => {
    const frames = interleaved(8);
    const { tcp } = await firstConnections(Readable.from([pcapBytes(frames)]), 'test.pcap', 3);
    const full = analyzeFrames(frames, false);
    const html = renderHtml(reportFromCapture('test.pcap', { ...full, udp: full.udp, tcp }, 8, '/tmp/x.html', 3));
    expect(arrows(html)).toBe(tcp.reduce((n, c) => n + c.segments.length, 0));
    expect(html).toContain('the first 3 of 8 TCP connections; 5 left out');
    expect(html.match(/<tr><td><a href="#tcp-/g)).toHaveLength(3);
  });
});

describe('the page', () => {
  it('draws one arrow per segment of a real capture, each with its decode line, and fetches nothing', async () => {
    const file = 'test/fixtures/pcaps/tcp-sack-lo.pcap';
    const a = await inspectStream(openCaptureFile(file), { file, keepSegments: true });
    const html = renderHtml(reportFromCapture(file, a, a.tcp.length, '/tmp/r.html'));
    expect(arrows(html)).toBe(a.tcp[0]!.segments.length);
    expect(html).toContain(`<title>#1 0.000000 C -&gt; S [S]`);
    expect(html).toContain(`http-equiv="Content-Security-Policy" content="default-src 'none'`);
    // No URL a browser would fetch: no src/href to http(s), no @import or url() in the CSS.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toContain('class="tw"'); // the client ends in TIME_WAIT
  });
});

describe('kernel events on the ladder', () => {
  it('are marked on their side at their time, in segment order, with their words; absent, nothing is drawn', () => {
    const c = analyzeFrames(interleaved(1)).tcp[0]!;
    const observed = {
      sampleMs: 10, sockets: [], counters: [], faults: [], dropped: [], unnamedDrops: [], timeWait: [],
      kernel: [
        { time: 0.0005, connection: 0, who: 'server', text: 'SYN_RECV (kernel: LISTEN -> SYN_RECV)', kind: 'state' },
        { time: 0.0025, connection: 0, who: 'client', text: 'retransmit seq 1', kind: 'retransmit' },
        { time: 0.0025, connection: 1, who: 'client', text: 'another connection', kind: 'state' },
      ],
    };
    const svg = renderLadderSvg(c, { dropped: new Set(), observed, maxSegments: 100 }).split('</svg>')[0]!;
    const marks = [...svg.matchAll(/<g class="kev" data-kind="(\w+)" data-side="(\w+)"[^>]*><title>([^<]*)<\/title><(path d="M[\d.]+,([\d.]+)|circle cx="[\d.]+" cy="([\d.]+))/g)];
    expect(marks.map((m) => [m[1], m[2]])).toEqual([['state', 'server'], ['retransmit', 'client']]);
    expect(marks[0]![3]).toContain('SYN_RECV (kernel: LISTEN -&gt; SYN_RECV)');
    const y = marks.map((m) => Number(m[5] ?? m[6]));
    const segY = [...svg.matchAll(/<line x1="[\d.]+" y1="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(y[0]).toBeGreaterThan(segY[0]!); // after the SYN (0.000), before the SYN-ACK (0.001)
    expect(y[0]).toBeLessThan(segY[1]! + 5);
    expect(y[1]).toBeGreaterThan(segY[2]!); // after the ACK (0.002)
    expect(renderLadderSvg(c, { dropped: new Set(), observed: null, maxSegments: 100 })).not.toContain('class="kev"');
  });
});

describe('UDP', () => {
  it("draws an experiment's loss and the cause of every lost datagram, tolerating missing fields", () => {
    const html = renderUdpResult({
      receiver: { received: 900, lost: 100, lossText: '10%', jitterMs: 0.0123 },
      sender: { attempted: 1000 },
      attribution: { lost: 100, causes: [{ cause: 'receive-buffer', datagrams: 70, evidence: 'Udp.RcvbufErrors +70' }, { cause: 'injected-loss', datagrams: 30, evidence: 'rule counter 30' }, { cause: 'reassembly', datagrams: 0, evidence: '' }], unexplained: 0, notes: [] },
    });
    expect(html).toContain('<dt>lost</dt><dd>100 (10%)</dd>');
    expect(html).toContain('style="flex:70"');
    expect(html).toContain('<b>receive-buffer</b>: 70 datagrams. Udp.RcvbufErrors +70');
    expect(html).not.toContain('reassembly</b>');
    expect(renderUdpResult({})).toContain('UDP loss');
    expect(renderUdpResult(null)).toBe('');
  });
  it("draws a lab's UDP experiments (report.json labs[].udp) as one table row each, with the causes and the model", () => {
    const html = renderUdpExperiments([
      {
        name: 'three-fragments', title: '4000-byte payload', params: { family: 6, topology: 'router', mtu: 1500, size: 4000, rate: 5000, pace: false, loss: 10 },
        sent: 1000, received: 729, lost: 271, lossText: '27%', causes: { 'send-error': 0, 'injected-loss': 271, 'receive-buffer': 0 }, unexplained: 0,
        packetsPerDatagram: 3, model: { predictedLossPercent: 27.1, measuredLossPercent: 27.1 },
      },
      { name: 'lan<x>' },
    ]);
    expect(html).toContain('<h3>UDP experiments</h3>');
    expect(html).toContain('<b>three-fragments</b><br><small>4000-byte payload</small>');
    expect(html).toContain('IPv6 router mtu 1500 · 4000 B · 5000/s · 10% loss');
    expect(html).toContain('<td class="num bad">271 <small>(27%)</small></td><td>injected-loss 271</td>');
    expect(html).toContain('<td class="num">27.1% / 27.1%</td>');
    expect(html).toContain('<b>lan&lt;x&gt;</b>'); // a row with nothing but a name still draws, escaped
    expect(renderUdpExperiments([])).toBe('');
  });
  it('embeds plots as data: images, so nothing is fetched and their scripts never run', () => {
    const html = renderPlots([{ name: 'sweep.svg', svg: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' }]);
    expect(html).toMatch(/<img alt="sweep.svg" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+">/);
    expect(html).not.toContain('<script>');
  });
});

describe('mermaid', () => {
  it('is a sequence diagram with a message per segment and the states as notes', async () => {
    const a = analyzeFrames(interleaved(1));
    const m = renderMermaid(a.tcp[0]!, { dropped: new Set([a.tcp[0]!.segments[2]!.packet]) });
    const lines = m.split('\n');
    expect(lines[0]).toBe('sequenceDiagram');
    expect(lines.filter((l) => /^ {2}[CS](->>|-->>|-x)[CS]: /.test(l))).toHaveLength(6);
    expect(lines).toContain('  C-xS: 0.002000 [.] seq 1 ack 1 dropped');
    expect(lines).toContain('  Note left of C: SYN_SENT');
    expect(m).not.toMatch(/[;#]/);
  });
});

describe('the terminal ladder', () => {
  const c = analyzeFrames(interleaved(1)).tcp[0]!;
  it('is plain and unchanged off a terminal', () => {
    expect(ladderStyleFor({ isTTY: false, columns: 80 }, {})).toEqual({});
    expect(renderLadder(c, {})).toBe(renderLadder(c));
    expect(renderLadder(c)).not.toContain('\x1b[');
  });
  it('fits the terminal width and colours only without NO_COLOR', () => {
    const style = ladderStyleFor({ isTTY: true, columns: 80 }, {});
    expect(style).toEqual({ width: 80, color: true });
    const lines = renderLadder(c, style).split('\n');
    expect(lines.some((l) => l.includes('\x1b[34m'))).toBe(true);
    const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');
    for (const l of lines.slice(1)) expect(plain(l).length).toBeLessThanOrEqual(80);
    expect(ladderStyleFor({ isTTY: true, columns: 80 }, { NO_COLOR: '1' }).color).toBe(false);
    expect(ladderStyleFor({ isTTY: true, columns: 80 }, { TERM: 'dumb' }).color).toBe(false);
    expect(renderLadder(c, { width: 80, color: false })).not.toContain('\x1b[');
  });
});
