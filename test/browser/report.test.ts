/// <reference lib="dom" />
/**
 * The HTML report of a real lab run, opened in a real browser (the Debian package's Chromium,
 * driven by playwright-core). lost-third-ack drops the client's pure ACKs at the server's input and
 * the server resends its SYN-ACK; four-way-close ends with the client in TIME_WAIT. The page must
 * draw one arrow per captured segment, the states the analysis found, the retransmissions and the
 * dropped packets as such, TIME_WAIT with the length the kernel's timer showed, show a segment's
 * decode on hover, fit a phone, and fetch nothing. Screenshots go to test-output/browser/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, root, runCli } from '../support/cli.js';
import { Chromium, CHROMIUM } from './chromium.js';

const OUT = path.join(root, 'test-output/browser');
const canRun = isRoot && existsSync(CHROMIUM);

interface RunReport {
  labs: {
    lab: string;
    verdict: string;
    inspect: { tcp: { id: number; packets: number; retransmissions: number; states: { client: string[]; server: string[] } }[] } | null;
    observed: { dropped: number[]; faults: { dropped: number }[] } | null;
  }[];
}

describe.skipIf(!canRun)('the HTML report of a real run, in Chromium', () => {
  let dir = '';
  let report: RunReport;
  let browser: Chromium;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wirelab-html-'));
    mkdirSync(OUT, { recursive: true });
    const r = await runCli(['run', 'lost-third-ack', 'four-way-close', '--param', 'synackRetries=1', '--out', dir, '--json'], { timeoutMs: 90_000 });
    expect(r.stderr).not.toMatch(/internal error/);
    report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as RunReport;
    for (const l of report.labs) expect(l.verdict, `${l.lab}: ${r.stdout.slice(0, 400)}`).not.toBe('error');
    browser = await Chromium.launch();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const lab = (name: string) => report.labs.find((l) => l.lab === name)!;

  it('draws one arrow per segment and every state the analysis found, and fetches nothing', async () => {
    const o = await browser.open(path.join(dir, 'report.html'), { width: 1280 });
    try {
      for (const l of report.labs) {
        for (const c of l.inspect!.tcp) {
          const ladder = o.page.locator(`section.lab[id^="lab-${l.lab}-"] [id$="-tcp-${c.id}"] svg.ladder.wide`);
          expect(await ladder.locator('g.seg').count(), `${l.lab} #${c.id} arrows`).toBe(c.packets);
          const words = (await ladder.locator('text.st').allTextContents()).flatMap((t) => t.split(' → '));
          for (const side of ['client', 'server'] as const) for (const st of c.states[side]) expect(words, `${l.lab} #${c.id} ${side}`).toContain(st);
        }
      }
      expect(o.requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
      expect(o.requests.filter((u) => u.startsWith('file:'))).toHaveLength(1);
    } finally {
      await o.close();
    }
  });

  it('draws retransmissions dashed and the packets the fault dropped as arrows that stop half way', async () => {
    const l = lab('lost-third-ack');
    const o = await browser.open(path.join(dir, 'report.html'), { width: 1280 });
    try {
      const sec = o.page.locator('section.lab[id^="lab-lost-third-ack-"]');
      const retx = l.inspect!.tcp.reduce((n, c) => n + c.retransmissions, 0);
      expect(retx).toBeGreaterThan(0);
      expect(await sec.locator('svg.ladder.wide g.seg.retx').count()).toBe(retx);
      expect(await sec.locator('svg.ladder.wide g.seg.retx line').first().evaluate((e) => getComputedStyle(e).strokeDasharray)).not.toBe('none');
      const dropped = l.observed!.dropped;
      expect(dropped.length).toBe(l.observed!.faults.reduce((n, f) => n + f.dropped, 0));
      const arrows = sec.locator('svg.ladder.wide g.seg.dropped');
      expect(await arrows.count()).toBe(dropped.length);
      expect((await arrows.evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-packet'))))).sort((a, b) => a - b)).toEqual(dropped);
      for (const g of await arrows.all()) {
        const [x1, x2] = await g.locator('line').evaluate((e) => [Number(e.getAttribute('x1')), Number(e.getAttribute('x2'))]);
        const axes = await g.locator('xpath=ancestor::*[name()="svg"][1]').locator('line.axis').evaluateAll((ls) => ls.map((e) => Number(e.getAttribute('x1'))));
        const [cx, sx] = [Math.min(...axes), Math.max(...axes)];
        expect(x1 === cx || x1 === sx).toBe(true);
        expect(Math.abs(x2 - (cx + sx) / 2)).toBeLessThan(1); // stops half way
        expect(await g.locator('.cross').count()).toBe(1);
        expect(await g.locator('.head').count()).toBe(0); // no arrowhead: it never arrived
      }
    } finally {
      await o.close();
    }
  });

  it('draws TIME_WAIT with the length the kernel timer showed, and shows the full decode on hover', async () => {
    const o = await browser.open(path.join(dir, 'report.html'), { width: 1280 });
    try {
      const sec = o.page.locator('section.lab[id^="lab-four-way-close-"]');
      const tw = sec.locator('svg.ladder.wide g.tw[data-side="client"]');
      expect(await tw.count()).toBe(1);
      const seconds = Number(/TIME_WAIT ([\d.]+) s/.exec(await tw.locator('text.twl').textContent() ?? '')?.[1]);
      expect(seconds).toBeGreaterThan(59);
      expect(seconds).toBeLessThan(61);
      const first = sec.locator('svg.ladder.wide g.seg').first();
      await first.locator('text.lbl').hover();
      const tip = o.page.locator('#tip');
      await expect.poll(() => tip.isVisible()).toBe(true);
      expect(await tip.textContent()).toMatch(/^#\d+ +0\.000000 C -> S \[S\] +seq 0 len 0 win \d+ <mss/);
      for (const [name, dark] of [['1280-light', false], ['1280-dark', true]] as const) {
        if (dark) await o.page.emulateMedia({ colorScheme: 'dark' });
        const file = path.join(OUT, `report-${name}.png`);
        await o.page.screenshot({ path: file, fullPage: true });
        expect(statSync(file).size).toBeGreaterThan(20_000);
      }
    } finally {
      await o.close();
    }
  });

  it('fits a phone: the narrow ladder shows, nothing scrolls sideways but the state timeline', async () => {
    for (const [name, dark] of [['phone-light', false], ['phone-dark', true]] as const) {
      const o = await browser.open(path.join(dir, 'report.html'), { width: 390, height: 844, dark });
      try {
        expect(await o.page.locator('svg.ladder.wide').first().isVisible()).toBe(false);
        const narrow = o.page.locator('svg.ladder.narrow').first();
        expect(await narrow.isVisible()).toBe(true);
        expect((await narrow.boundingBox())!.width).toBeLessThanOrEqual(390);
        // On failure, name what sticks out (elements past the right edge that no scrolling box holds).
        const wide = await o.page.evaluate(() => {
          const out: string[] = [];
          for (const e of Array.from(document.querySelectorAll('body *'))) {
            const r = e.getBoundingClientRect();
            if (r.right <= 391 || e.closest('.diagram')) continue;
            out.push(`${e.tagName.toLowerCase()}.${e.className} right=${Math.round(r.right)}: ${(e.textContent ?? '').slice(0, 60)}`);
          }
          return out.slice(0, 8);
        });
        expect(await o.page.evaluate(() => document.documentElement.scrollWidth), wide.join('\n')).toBeLessThanOrEqual(390);
        const file = path.join(OUT, `report-${name}.png`);
        await o.page.screenshot({ path: file, fullPage: true });
        expect(statSync(file).size).toBeGreaterThan(20_000);
      } finally {
        await o.close();
      }
    }
  });

  it('wirelab report DIR rebuilds the same drawing from report.json and the pcaps', async () => {
    const html = path.join(dir, 'report.html');
    const before = readFileSync(html, 'utf8');
    unlinkSync(html);
    const r = await runCli(['report', dir]);
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(html, 'utf8');
    const arrows = (s: string): string[] => [...s.matchAll(/<g class="(seg[^"]*)"[^>]*data-packet="(\d+)"/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(arrows(after)).toEqual(arrows(before));
    expect(after.match(/class="tw"/g)?.length).toBe(before.match(/class="tw"/g)?.length);
  });
});

// A big trace (bench/make-trace.ts makes /tmp/wl-bench.pcap, ~1M packets): WIRELAB_HTML_TRACE=/tmp/wl-bench.pcap
const TRACE = process.env.WIRELAB_HTML_TRACE;
describe.skipIf(!TRACE || !existsSync(CHROMIUM))('inspect --html of a big trace', () => {
  it('draws the first 50 connections, says how many it left out, and opens', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wirelab-html-big-'));
    const html = path.join(dir, 'big.html');
    try {
      const r = await runCli(['inspect', TRACE!, '--html', html], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const m = /(\d+) of (\d+) TCP connections drawn/.exec(r.stderr)!;
      const total = Number(m[2]);
      const j = await runCli(['inspect', TRACE!, '--json'], { timeoutMs: 120_000 });
      const tcp = (JSON.parse(j.stdout) as { tcp: { packets: number }[] }).tcp;
      expect(total).toBe(tcp.length);
      const browser = await Chromium.launch();
      try {
        const o = await browser.open(html, { width: 1280 });
        expect(await o.page.locator('svg.ladder.wide g.seg').count()).toBe(tcp.slice(0, 50).reduce((n, c) => n + c.packets, 0));
        expect(await o.page.locator('p.limit').first().textContent()).toContain(`the first 50 of ${total} TCP connections; ${total - 50} left out`);
        expect(o.requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
        await o.close();
      } finally {
        await browser.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
