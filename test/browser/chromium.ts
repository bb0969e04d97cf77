/**
 * Headless Chromium for the browser tests: the Debian package's /usr/bin/chromium driven by
 * playwright-core (no browser download), a fresh profile per launch, nothing in the background
 * that would reach the network. Every request the page makes is recorded, so a test can assert
 * that a report fetched nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WIRELAB_CHROMIUM ?? '/usr/bin/chromium';

export interface Opened {
  page: Page;
  /** Every URL the page requested, the report's own file:// URL included. */
  requests: string[];
  close(): Promise<void>;
}

export class Chromium {
  private constructor(private readonly browser: Browser, private readonly profile: string) {}

  static async launch(): Promise<Chromium> {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'wirelab-chromium-'));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
      ],
    });
    return new Chromium(browser, profile);
  }

  /** Open a file at a viewport width, in light or dark. */
  async open(file: string, opts: { width: number; height?: number; dark?: boolean; mobile?: boolean }): Promise<Opened> {
    const context: BrowserContext = await this.browser.newContext({
      viewport: { width: opts.width, height: opts.height ?? 900 },
      colorScheme: opts.dark ? 'dark' : 'light',
      ...(opts.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${path.resolve(file)}`, { waitUntil: 'load' });
    return { page, requests, close: () => context.close() };
  }

  async close(): Promise<void> {
    await this.browser.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}
