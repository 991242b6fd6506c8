/**
 * One journey through the real page in Chromium on the demo gallery: ask by part number, teach by
 * re-posting a gallery photo, say "Not it", label an unlabelled photo from its card, and forget
 * with the confirmation button. What is asserted is what the page shows.
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoWorld, demoWorld } from './demo-world.js';

declare const document: { body: { dataset: Record<string, string | undefined> }; querySelectorAll(selector: string): { length: number } };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let world: DemoWorld;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (apt-get install -y chromium; .ci/run does it).`);
  world = await demoWorld();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage();
  await page.goto(`${world.server.base}/`);
  await idle();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await world?.close();
});

const idle = () => page.waitForFunction(() => document.body.dataset.busy === 'false', undefined, { timeout: 30_000 });
const lastAnswer = () => page.locator('.message-bot:not(.pending)').last();

async function send(text: string, photo?: { name: string; buffer: Buffer }): Promise<void> {
  const before = await page.locator('.message-bot:not(.pending)').count();
  if (photo) {
    await page.setInputFiles('#file-input', { ...photo, mimeType: 'image/png' });
    await page.waitForSelector('#attachments li');
  }
  await page.fill('#composer-text', text);
  await page.press('#composer-text', 'Enter');
  await page.waitForFunction((n) => document.querySelectorAll('.message-bot:not(.pending)').length > n && document.body.dataset.busy === 'false', before, { timeout: 30_000 });
}

describe('the web page, as a person uses it', () => {
  it('a part number shows the part first, as a strong match with its other photos', async () => {
    await send('P-20417');
    const first = lastAnswer().locator('.card').first();
    expect(await first.locator('.card-title').textContent()).toBe('P-20417');
    expect(await first.locator('.band').textContent()).toMatch(/strong/i);
    expect(await first.textContent()).toMatch(/\+2 more/);
  });

  it('a re-posted gallery photo with "add" is linked, and "show" lists it without a band', async () => {
    const file = world.gallery.entities.find((e) => e.label === 'P-12007')!.unlabelledViews[0]!;
    await send('add HOSE-9: the spare hose', { name: 'hose.png', buffer: world.photo(file) });
    expect(await lastAnswer().textContent()).toMatch(/Linked 1 photo already in the gallery to HOSE-9/);
    await send('show HOSE-9');
    expect(await lastAnswer().locator('.card').count()).toBe(1);
    expect(await lastAnswer().locator('.band').count()).toBe(0);
  });

  it('"That\'s it" on an unlabelled photo asks for its label inline, and saves it', async () => {
    const file = world.gallery.unlabelled.find((f) => f.includes('people'))!;
    await send('', { name: 'visitor.png', buffer: world.photo(file) });
    const id = (await world.itemOf(file)).id;
    const card = lastAnswer().locator(`.card[data-item-id="${id}"]`);
    await card.locator('.action-confirm').click();
    await page.waitForSelector('.label-form input');
    expect(await card.locator('.label-prompt').textContent()).toMatch(/Give it a label/);
    await card.locator('.label-form input').fill('visitor-Q');
    await card.locator('.label-form button').click();
    await idle();
    expect(await page.locator(`.card[data-item-id="${id}"] .card-title`).last().textContent()).toBe('visitor-Q');
    expect(await page.locator(`.card[data-item-id="${id}"] .verdict`).last().textContent()).toMatch(/Confirmed by you/);
  });

  it('forget asks with a button, and the answer replaces the question', async () => {
    await send('forget HOSE-9');
    const question = lastAnswer();
    expect(await question.textContent()).toMatch(/Forget HOSE-9 \(parts\) and its 1 photo/);
    await question.locator('button.action-danger').click();
    await idle();
    await page.waitForFunction(() => document.querySelectorAll('.reply-actions').length === 0, undefined, { timeout: 30_000 });
    expect(await page.locator('.message-bot').filter({ hasText: 'Forgotten by you: HOSE-9' }).count()).toBe(1);
  });
});
