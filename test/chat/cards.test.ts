import { describe, expect, it } from 'vitest';
import { decodeAction, encodeAction, MAX_ACTION_VALUE, scoreBand } from '../../src/chat/cards.js';
import type { SearchHit } from '../../src/search/search.js';

const refined = (score: number) => ({ score, components: { initial: 0, entity: 0, refspace: 0, feedback: 0, final: score } }) as unknown as SearchHit;
const plain = (score: number) => ({ score, components: null }) as unknown as SearchHit;

describe('cards', () => {
  it('bands refined scores by standing and by distance from the best hit', () => {
    expect([9.1, 8.5, 4.0, 0.3].map((s) => scoreBand(refined(s), 9.1))).toEqual(['strong', 'strong', 'weak', 'weak']);
    expect([6.1, 5.5, 4.9, 1.3].map((s) => scoreBand(refined(s), 6.1))).toEqual(['strong', 'strong', 'good', 'weak']);
    expect(scoreBand(refined(2), 2)).toBe('good');
    expect([0.31, 0.28, 0.2].map((s) => scoreBand(plain(s), 0.31))).toEqual(['strong', 'good', 'weak']);
  });

  it('button values round-trip, stay within Slack\'s limit, and anything else is refused', () => {
    const card = { itemId: 7, entityId: 3, band: 'good' as const, why: 'w'.repeat(5000) };
    const value = encodeAction('confirm', card, { text: 'q'.repeat(5000), typed: true });
    expect(value.length).toBeLessThanOrEqual(MAX_ACTION_VALUE);
    expect(decodeAction(value)).toMatchObject({ a: 'confirm', i: 7, e: 3, b: 'good', t: true });
    // Quotes and control characters grow under JSON escaping; the value still fits and still decodes.
    const escaped = encodeAction('reject', { ...card, why: '\u0001'.repeat(400) }, { text: '"'.repeat(1000), typed: true });
    expect(escaped.length).toBeLessThanOrEqual(MAX_ACTION_VALUE);
    expect(decodeAction(escaped).q).toMatch(/^"+…$/);
    for (const bad of [value.replace('"i":7', '"i":-1'), value.replace('"v":1', '"v":2'), '[]', 'null', undefined, 7]) {
      expect(() => decodeAction(bad), String(bad).slice(0, 40)).toThrow(expect.objectContaining({ code: 'USAGE_INVALID' }));
    }
  });
});
