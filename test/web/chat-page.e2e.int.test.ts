/**
 * The web chat in real Chromium (Debian's, driven by playwright-core) against the real server on
 * 127.0.0.1: real catalogue, index and demo encoder. `.ci/run` installs chromium.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';

// The few browser globals the page functions below use (this project compiles without the DOM lib).
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
};
type Img = { complete: boolean; naturalWidth: number; onload: unknown };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('web chat in Chromium', () => {
  let dir: string;
  let referent: Referent;
  let server: TestServer | undefined;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (apt-get install -y chromium; .ci/run does it).`);
    dir = tempDir();
    const config = testConfig(path.join(dir, 'data'));
    referent = await openReferent(config);
    const list = await readSources(await makeColourGallery(path.join(dir, 'img'), 3, ['red', 'green', 'blue', 'yellow']));
    // Every third image labelled; the rest unlabelled, as in a real gallery.
    list.sources = list.sources.map((s, i) => (i % 3 === 0 ? s : { path: s.path, origin: s.origin, ...(s.caption ? { caption: s.caption } : {}) }));
    await ingest(referent, list, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    server = await startServer(referent, config);
    base = server.base;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage();
    await page.goto(`${base}/`);
    await idle(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const idle = (p: Page) => p.waitForFunction(() => document.body.dataset.busy === 'false', undefined, { timeout: 30_000 });

  /** Sends a message from the composer and waits for Referent's answer to be rendered. */
  async function send(text: string): Promise<void> {
    const before = await page.locator('.message-bot:not(.pending)').count();
    await page.fill('#composer-text', text);
    await page.press('#composer-text', 'Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.message-bot:not(.pending)').length > n && document.body.dataset.busy === 'false', before, { timeout: 30_000 });
  }

  /** Item ids of the cards in the newest answer, in order. */
  const lastCards = () => page.locator('.message-bot').last().locator('.card').evaluateAll((cards) => cards.map((c) => Number((c as unknown as { dataset: { itemId: string } }).dataset.itemId)));

  it('greets with help and the demo notice', async () => {
    expect(await page.locator('#demo-notice').isVisible()).toBe(true);
    expect(await page.locator('.message-bot').first().textContent()).toMatch(/add P-20417/);
  });

  it('a typed query shows image cards, best first, with thumbnails and buttons', async () => {
    await send('red');
    const ids = await lastCards();
    expect(ids.length).toBeGreaterThan(0);
    expect((await referent.catalog.getItem(ids[0]!))!.caption).toMatch(/red/);
    const card = page.locator('.message-bot').last().locator('.card').first();
    await card.locator('img').evaluate((el) => { const img = el as unknown as Img; return img.complete ? null : new Promise((r) => (img.onload = r)); });
    expect(await card.locator('img').evaluate((el) => (el as unknown as Img).naturalWidth)).toBeGreaterThan(0);
    expect(await card.locator('.why').textContent()).not.toBe('');
    expect(await card.locator('button.action').allTextContents()).toEqual(["That's it", 'Not it', 'More like this']);
  });

  it('uploads a photo with "add X: …", then finds it with "show X"', async () => {
    const photo = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 250, g: 120, b: 0 } } }).png().toBuffer();
    await page.setInputFiles('#file-input', { name: 'teapot.png', mimeType: 'image/png', buffer: photo });
    await page.waitForSelector('#attachments li');
    await send('add TEAPOT-7: a small orange teapot');
    expect(await page.locator('.message-bot').last().textContent()).toMatch(/Added 1 photo of TEAPOT-7/);
    await send('show TEAPOT-7');
    const ids = await lastCards();
    expect(ids).toHaveLength(1);
    expect((await referent.catalog.getItem(ids[0]!))!.entityLabel).toBe('TEAPOT-7');
  });

  it('"That\'s it" marks the card and changes the next answer', async () => {
    await send('green');
    const before = await lastCards();
    // The second card: That's it brings it to the top of the same question.
    const card = page.locator('.message-bot').last().locator('.card').nth(1);
    await card.locator('.action-confirm').click();
    await idle(page);
    // A photo nobody labelled asks for its label in the card first.
    if (await card.locator('.label-form input').count()) {
      await card.locator('.label-form input').fill('GREEN-PICK');
      await card.locator('.label-form button').click();
      await idle(page);
    }
    await page.waitForFunction((id) => document.querySelector(`.card[data-item-id="${id}"] .verdict`)?.textContent?.includes('Confirmed by you'), before[1], { timeout: 30_000 });
    await send('green');
    expect((await lastCards())[0]).toBe(before[1]);
  });

  it('shows hostile text as text', async () => {
    await send('<img src=x onerror="document.body.dataset.pwned=1"> red');
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    expect(await page.locator('.message-user').last().textContent()).toContain('<img src=x');
  });
});
