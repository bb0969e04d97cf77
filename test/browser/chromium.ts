/**
 * Headless Chromium for the browser tests: the Debian package's /usr/bin/chromium driven by
 * playwright-core (no browser download), a fresh profile per launch, nothing in the background
 * that would reach the network. Every request the page makes is recorded, so a test can assert
 * that a report fetched nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WIRELAB_CHROMIUM ?? '/usr/bin/chromium';

export interface Opened {
  page: Page;
  /** Every URL the page requested, the report's own file:// URL included. */
  requests: string[];
  close(): Promise<void>;
}

export class Chromium {
  private constructor(private readonly context: BrowserContext, private readonly profile: string) {}

  /** A fresh profile directory (playwright passes it as --user-data-dir). */
  static async launch(): Promise<Chromium> {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'wirelab-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return new Chromium(context, profile);
  }

  /** Open a file at a viewport width, in light or dark. */
  async open(file: string, opts: { width: number; height?: number; dark?: boolean }): Promise<Opened> {
    const page = await this.context.newPage();
    await page.setViewportSize({ width: opts.width, height: opts.height ?? 900 });
    await page.emulateMedia({ colorScheme: opts.dark ? 'dark' : 'light' });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${path.resolve(file)}`, { waitUntil: 'load' });
    return { page, requests, close: () => page.close() };
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}
