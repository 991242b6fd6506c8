import { describe, expect, it } from 'vitest';
import { hitCard, plainFromTeams, submittedValue, textCard } from '../../adapters/teams/cards.js';
import { otherFiles, photosOf } from '../../adapters/teams/teams-files.js';
import type { Card } from '../../src/chat/reply.js';
import { sampleCard } from '../support/cards.js';

const card = (over: Partial<Card> = {}) => sampleCard(7, { band: 'good', more: 2, ...over });

describe('plainFromTeams', () => {
  it("reads Teams' message HTML as the words typed", () => {
    expect(plainFromTeams('<at>Referent</at> red <b>valve</b>')).toBe('red valve');
    expect(plainFromTeams('<p>a &lt;b&gt; &amp; c&nbsp;d</p><p>e</p>')).toBe('a <b> & c d e');
  });
});

describe('hitCard', () => {
  it('is an Adaptive Card 1.5: image, title, band and why, the three Action.Execute buttons (Action.Submit fallback) with our values', () => {
    const { contentType, content } = hitCard(card(), 'data:image/jpeg;base64,AAAA');
    expect(contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(content.version).toBe('1.5');
    expect(content.body[0]).toMatchObject({ type: 'Image', url: 'data:image/jpeg;base64,AAAA', altText: 'P-7' });
    expect(JSON.stringify(content.body)).toContain('+2 more of this');
    expect(content.actions!.map((a) => [a.type, a.title, (a.fallback as { type?: string } | undefined)?.type])).toEqual([
      ['Action.Execute', "That's it", 'Action.Submit'],
      ['Action.Execute', 'Not it', 'Action.Submit'],
      ['Action.Execute', 'More like this', 'Action.Submit'],
    ]);
    expect(submittedValue(content.actions![2]!.data)).toBe('{"v":1,"a":"more"}');
    expect(submittedValue({ other: 'x' })).toBeNull();
  });

  it('puts user text only in TextRuns, literally, with card functions broken', () => {
    const hostile = '*x* [y](https://evil.example) {{DATE(2017-02-14T06:08:39Z)}}';
    const { content } = hitCard(card({ title: hostile, why: hostile, collection: hostile, verdict: `Confirmed by ${hostile}` }), undefined);
    expect(content.body.some((e) => e.type === 'TextBlock')).toBe(false);
    const json = JSON.stringify(content.body);
    expect(json).toContain('[y](https://evil.example)');
    expect(json).not.toContain('{{DATE');
    const error = textCard({ kind: 'error', text: hostile, cards: [] }).content;
    expect(error.body.every((e) => e.type === 'RichTextBlock')).toBe(true);
  });
});

describe('photosOf', () => {
  it('takes inline pictures (with the token) and personal-chat image files (without), and skips the rest', () => {
    const photos = photosOf([
      { contentType: 'image/png', contentUrl: 'https://smba.trafficmanager.net/v3/attachments/1/views/original', name: 'a.png' },
      { contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'b.jpg', content: { downloadUrl: 'https://tenant.sharepoint.com/b.jpg?tempauth=x', fileType: 'jpg' } },
      { contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'c.pdf', content: { downloadUrl: 'https://tenant.sharepoint.com/c.pdf', fileType: 'pdf' } },
      { contentType: 'text/html', content: '<p>hi</p>' },
    ]);
    expect(photos.map((p) => [p.name, p.withToken])).toEqual([
      ['a.png', true],
      ['b.jpg', false],
    ]);
    expect(otherFiles([{ contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'c.pdf', content: { fileType: 'pdf', downloadUrl: 'https://x/c.pdf' } }])).toEqual(['c.pdf']);
  });
});
