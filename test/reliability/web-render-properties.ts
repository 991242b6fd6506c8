/**
 * The web page's share of the renderer properties: generated replies go through the page's own
 * code (app.js, served by the real static-page handler with its real headers) in real Chromium, a
 * batch of replies per message, and the DOM that comes out is compared with what each reply says.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { chromium, type Browser } from 'playwright-core';
import { servePage } from '../../adapters/web/static-page.js';
import type { Reply } from '../../src/chat/reply.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Replies per round trip: the page renders a whole `replies` array from one /api/chat answer. */
export const WEB_BATCH = 16;

/** Every character outside printable ASCII as a `\uXXXX` escape. */
export const ascii = (text: string): string => text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** JSON in printable ASCII only, so no transport (HTTP, CDP) can alter a lone surrogate or a NUL. */
export const asciiJson = (value: unknown): string => ascii(JSON.stringify(value));

/*
 * Runs in the page, so it is plain JavaScript in a string (no transpiler helper can leak into it).
 * The conversation is hidden while it renders: laying out thousands of characters of mixed scripts
 * costs far more than making the DOM, and no check here depends on layout.
 * It sends one message, waits for the page to render the routed answer, then checks the DOM: only
 * the elements and attributes app.js makes, nothing new outside the conversation, no payload ran,
 * and every string shows exactly as sent, as text.
 */
const IN_PAGE = String.raw`async (batch) => {
  const replies = JSON.parse(batch);
  const conv = document.getElementById('conversation');
  const outside = () => document.getElementsByTagName('*').length - conv.getElementsByTagName('*').length;
  const before = outside();
  conv.replaceChildren();
  conv.style.display = 'none';
  document.getElementById('composer-text').value = 'x';
  document.getElementById('composer').requestSubmit();
  for (let t = 0; document.body.dataset.busy !== 'false' || conv.querySelector('.pending'); t++) {
    if (t > 5000) return ['the page did not finish rendering'];
    await new Promise((r) => setTimeout(r, 1));
  }
  const problems = [];
  const esc = (s) => JSON.stringify(String(s)).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const same = (where, got, want) => { if (got !== want) problems.push(where + ' is ' + esc(got) + ', expected ' + esc(want)); };
  const TAGS = new Set(['ARTICLE', 'P', 'UL', 'LI', 'DIV', 'IMG', 'SPAN', 'BUTTON']);
  const ATTRS = new Set(['class', 'aria-label', 'role', 'data-item-id', 'tabindex', 'aria-labelledby', 'id', 'title', 'alt', 'width', 'height', 'loading', 'decoding', 'src', 'type', 'data-kind', 'aria-describedby', 'disabled']);
  for (const node of conv.querySelectorAll('*')) {
    if (!TAGS.has(node.tagName)) problems.push('unexpected element <' + esc(node.tagName.toLowerCase()) + '>');
    for (const a of node.attributes) if (!ATTRS.has(a.name)) problems.push('unexpected attribute ' + esc(a.name));
  }
  same('elements outside the conversation', outside(), before);
  if (window.__pwned !== undefined) problems.push('a payload ran (window.__pwned is set)');
  delete window.__pwned;
  const text = (node) => (node ? node.textContent : '');
  const BAND = { strong: 'strong match', good: 'good match', weak: 'weak match' };
  const shown = conv.querySelectorAll(':scope > article.message-bot');
  same('replies shown', shown.length, replies.length);
  replies.forEach((r, i) => {
    const msg = shown[i];
    if (!msg) return;
    same('reply ' + i + ' class', msg.className, 'message message-bot message-' + r.kind + (r.cards.length ? ' has-cards' : ''));
    same('reply ' + i + ' text', text(msg.querySelector(':scope > p.message-text')), r.text);
    same('reply ' + i + ' demo tag', !!msg.querySelector(':scope > p.demo-tag'), r.demoEncoder === true);
    const cards = msg.querySelectorAll(':scope > ul.cards > li.card');
    same('reply ' + i + ' cards', cards.length, r.cards.length);
    r.cards.forEach((c, j) => {
      const li = cards[j];
      if (!li) return;
      const at = 'reply ' + i + ' card ' + j;
      const title = c.title || 'Unlabelled image';
      const img = li.querySelector('img');
      const titleNode = li.querySelector('p.card-title');
      same(at + ' title', text(titleNode), title);
      same(at + ' title tooltip', titleNode ? titleNode.title : '', title);
      same(at + ' alt', img ? img.alt : '', title);
      same(at + ' image', img ? img.getAttribute('src') : '', /^[A-Za-z0-9_-]{1,128}$/.test(c.mediaKey) ? '/media/' + c.mediaKey + '/thumbnail' : null);
      same(at + ' band', text(li.querySelector('span.band')), BAND[c.band]);
      same(at + ' collection', text(li.querySelector('p.collection')), c.collection);
      same(at + ' why', text(li.querySelector('p.why')), c.why);
      same(at + ' verdict', text(li.querySelector('p.verdict')), c.verdict || '');
      same(at + ' buttons', Array.from(li.querySelectorAll('button.action'), (b) => b.textContent).join('|'), c.actions.map((a) => a.label).join('|'));
    });
  });
  return problems.slice(0, 12);
}`;

interface PageServer {
  base: string;
  /** What /api/chat answers next (ASCII JSON of the replies). */
  answer(repliesJson: string): void;
  close(): Promise<void>;
}

/** The page's three files through the real handler; the API answers with whatever the property set. */
async function startPageServer(): Promise<PageServer> {
  let body = '{"replies":[]}';
  const session = JSON.stringify({ model: 'properties', demoEncoder: false, demoNotice: null, user: 'you', help: null });
  const json = (res: http.ServerResponse, text: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    req.resume();
    if (path === '/api/session') return json(res, session);
    if (path === '/api/chat') return json(res, body);
    servePage(path, res).then(
      (served) => void (served || res.writeHead(404).end()),
      () => void res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer: (repliesJson) => void (body = `{"replies":${repliesJson}}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface WebRenderRun {
  details: fc.RunDetails<[Reply[]]>;
  /** Replies the page rendered and that were checked (shrinking included). */
  rendered: number;
  /** Whether a payload ran after the last batch was checked (an image's error event can fire late; earlier ones show in the next batch). */
  pwned: boolean;
}

/**
 * Checks `numRuns` batches of replies (1 to WEB_BATCH each) in one Chromium page. The page's CSP is
 * bypassed on purpose: it would stop an inline handler from running and hide an escaping bug in
 * app.js from the `__pwned` check; the DOM check catches injected markup either way.
 */
export async function checkWebRendering(replies: fc.Arbitrary<Reply>, options: { seed: number; numRuns: number }): Promise<WebRenderRun> {
  const server = await startPageServer();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${server.base}/`);
    await page.waitForFunction('document.body.dataset.busy === "false"', undefined, { timeout: 30_000 });
    let rendered = 0;
    const property = fc.asyncProperty(fc.array(replies, { minLength: 1, maxLength: WEB_BATCH }), async (batch) => {
      const json = asciiJson(batch);
      server.answer(json);
      const problems = (await page.evaluate(`(${IN_PAGE})(${JSON.stringify(json)})`)) as string[];
      rendered += batch.length;
      if (problems.length) throw new Error(problems.join('; '));
    });
    const details = await fc.check(property, { seed: options.seed, numRuns: options.numRuns });
    await page.waitForTimeout(200);
    const pwned = (await page.evaluate('window.__pwned !== undefined')) as boolean;
    return { details, rendered, pwned };
  } finally {
    await browser?.close();
    await server.close();
  }
}
