/**
 * Name this person in the web chat, in real Chromium against the real server on 127.0.0.1: `faces`
 * shows the button on each unknown group's card; pressing it asks for the name in the card (the
 * form That's it shows on a photo nobody labelled), and the name names the group, marks the card
 * and is shown as text. Over the API, a web chat that does not see the collection is answered as
 * if the group were not there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReferent, type Referent } from '../../src/open.js';
import { addFacePeople } from '../faces/face-people.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';

// The few browser globals the page functions below use (this project compiles without the DOM lib).
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  querySelectorAll(selector: string): { length: number };
};

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1"> Bo';

describe('Name this person in the web chat', () => {
  let dir: string;
  let referent: Referent;
  let server: TestServer | undefined;
  let elsewhere: TestServer | undefined;
  let browser: Browser;
  let page: Page;
  let people: Awaited<ReturnType<typeof addFacePeople<'bo1' | 'bo2' | 'cy'>>>;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (apt-get install -y chromium; .ci/run does it).`);
    dir = tempDir();
    const config = testConfig(path.join(dir, 'data'));
    referent = await openReferent(config);
    people = await addFacePeople(referent, 'people', [
      { name: 'bo1', people: [1] },
      { name: 'bo2', people: [1] },
      { name: 'cy', people: [2] },
    ]);
    await referent.catalog.ensureCollection('parts', 'other');
    server = await startServer(referent, config);
    // The same catalogue, for a web chat configured to see parts only.
    elsewhere = await startServer(referent, testConfig(path.join(dir, 'data'), { REFERENT_WEB_COLLECTIONS: 'parts' }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage();
    await page.goto(`${server.base}/`);
    await idle(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await elsewhere?.close();
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const idle = (p: Page) => p.waitForFunction(() => document.body.dataset.busy === 'false', undefined, { timeout: 30_000 });

  async function send(text: string): Promise<void> {
    const before = await page.locator('.message-bot:not(.pending)').count();
    await page.fill('#composer-text', text);
    await page.press('#composer-text', 'Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.message-bot:not(.pending)').length > n && document.body.dataset.busy === 'false', before, { timeout: 30_000 });
  }

  const act = (base: string, body: unknown) => fetch(`${base}/api/action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  it('shows the button on each card of `faces`; pressing it and giving a name names the group, shown as text', async () => {
    await send('faces');
    const answer = page.locator('.message-bot').nth((await page.locator('.message-bot').count()) - 1);
    expect(await answer.locator('.card').count()).toBe(2);
    const bo = answer.locator(`.card[data-item-id="${people.ids.bo2}"]`);
    expect(await bo.locator('button.action').allTextContents()).toEqual(['Name this person']);
    expect(await bo.locator('button.action-name').isEnabled()).toBe(true);

    await bo.locator('button.action-name').click();
    await page.waitForSelector('.label-form input');
    expect(await bo.locator('.label-form .label-prompt').textContent()).toMatch(/^Who is this\? 2 photos in people show this face\./);
    expect(await bo.locator('.label-form button').textContent()).toBe('Name');
    await bo.locator('.label-form input').fill(HOSTILE);
    await bo.locator('.label-form button').click();
    await idle(page);

    // The card was redrawn in place, in the same answer.
    const named = answer.locator(`.card[data-item-id="${people.ids.bo2}"]`);
    expect(await named.locator('.verdict').textContent()).toBe(`Named ${HOSTILE} by you`);
    expect(await named.locator('.verdict').getAttribute('class')).toContain('verdict-positive');
    expect(await named.locator('.card-title').textContent()).toBe(HOSTILE);
    expect(await named.locator('button.action').count()).toBe(0);
    expect(await page.locator('.message-bot').last().textContent()).toContain(`Named: 2 photos in people are now ${HOSTILE}.`);
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    expect((await referent.catalog.getItem(people.ids.bo1))!.entityLabel).toBe(HOSTILE);

    await send('faces');
    expect(await page.locator('.message-bot').last().locator('.card').evaluateAll((c) => c.map((x) => Number((x as unknown as { dataset: { itemId: string } }).dataset.itemId)))).toEqual([people.ids.cy]);
  });

  it('answers the button from a web chat that does not see the collection as a group that is not there', async () => {
    const reply = await fetch(`${server!.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'faces' }) }).then((r) => r.json() as Promise<{ replies: Array<{ cards: Array<{ actions: Array<{ kind: string; value: string }> }> }> }>);
    const value = reply.replies[0]!.cards[0]!.actions.find((a) => a.kind === 'name')!.value;
    const pressed = await act(elsewhere!.base, { value, label: 'Cy' });
    expect(pressed.status).toBe(200);
    expect(pressed.body).toEqual({ replies: [{ kind: 'error', text: expect.stringMatching(/^There is no unknown face group \d+ here now/), cards: [] }], card: null });
    expect(await referent.catalog.findEntities('Cy')).toEqual([]);
    const named = await act(server!.base, { value, label: 'Cy' });
    expect(named.body).toMatchObject({ replies: [{ kind: 'info', text: 'Named: 1 photo in people is now Cy.' }], card: { verdict: 'Named Cy by you' } });
  });
});
