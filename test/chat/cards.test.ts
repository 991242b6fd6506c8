import { describe, expect, it } from 'vitest';
import { decodeAction, encodeAction, forgetActions, MAX_ACTION_VALUE, nameAction, packVector, scoreBand, unpackVector } from '../../src/chat/cards.js';
import type { SearchHit } from '../../src/search/search.js';

type Carrier = 'similarity' | 'entity' | 'label';
const refined = (score: number, initial = 0.5, carriedBy: Carrier = 'entity') =>
  ({ score, components: { initial, entity: 0, feedback: 0, final: score }, why: { carriedBy, ...(carriedBy === 'label' ? { label: { identifier: 'P1', line: 'P-1', own: true } } : {}) } }) as unknown as SearchHit;
const plain = (score: number) => ({ score, components: null, why: null }) as unknown as SearchHit;

describe('cards', () => {
  it('bands hits carried by a reference on the refined score: standing, and distance from the best hit', () => {
    const best = (score: number) => ({ score, similarity: 0.5 });
    expect([9.1, 8.5, 4.0, 0.3].map((s) => scoreBand(refined(s), best(9.1)))).toEqual(['strong', 'strong', 'weak', 'weak']);
    expect([6.1, 5.5, 4.9, 1.3].map((s) => scoreBand(refined(s), best(6.1)))).toEqual(['strong', 'strong', 'good', 'weak']);
    expect(scoreBand(refined(2), best(2))).toBe('good');
  });

  it('bands a hit shown by its own similarity on that similarity: a cosine near 0 is never a good match', () => {
    // The card's why line shows the cosine: "(0.00)" with "good match" would contradict it.
    expect(scoreBand(refined(3, 0.004, 'similarity'), { score: 3, similarity: 0.004 })).toBe('weak');
    expect(scoreBand(refined(3, 0.6, 'similarity'), { score: 3, similarity: 0.6 })).toBe('strong');
    expect(scoreBand(refined(3, 0.55, 'similarity'), { score: 3.2, similarity: 0.6 })).toBe('good');
    expect(scoreBand(refined(3, 0.45, 'similarity'), { score: 3.2, similarity: 0.6 })).toBe('weak');
    // Standing among the candidates still caps it: a close cosine that stands out from nothing is weak.
    expect(scoreBand(refined(0.5, 0.6, 'similarity'), { score: 3, similarity: 0.6 })).toBe('weak');
    expect([0.31, 0.28, 0.2, 0.05].map((s) => scoreBand(plain(s), { score: 0.31, similarity: 0.31 }))).toEqual(['strong', 'good', 'weak', 'weak']);
  });

  it('a hit its label carried is a strong match whatever its visual score', () => {
    expect(scoreBand(refined(-1, 0, 'label'), { score: 5, similarity: 0.5 })).toBe('strong');
  });

  it('carries the searched vector in verdict buttons, to within int8 precision, and refuses a wrong size', () => {
    const v = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.7));
    let n = 0;
    for (const x of v) n += x * x;
    for (let i = 0; i < v.length; i++) v[i]! /= Math.sqrt(n);
    const back = unpackVector(packVector(v), 512)!;
    let cos = 0;
    for (let i = 0; i < v.length; i++) cos += v[i]! * back[i]!;
    expect(cos).toBeGreaterThan(0.999);
    expect(unpackVector(packVector(v), 768)).toBeNull();
    const value = encodeAction('reject', { itemId: 7, entityId: null, band: 'weak', why: 'w'.repeat(400) }, { text: 'a posted photo', typed: false, vector: v });
    expect(value.length).toBeLessThanOrEqual(MAX_ACTION_VALUE);
    const decoded = decodeAction(value);
    expect('x' in decoded && typeof decoded.x === 'string' ? unpackVector(decoded.x, 512) : null).not.toBeNull();
    // More like this needs no vector: the image is the query.
    expect(decodeAction(encodeAction('more', { itemId: 7, entityId: null, band: null, why: '' }, { text: 'q', typed: false, vector: v }))).not.toHaveProperty('x');
  });

  it('forget buttons decode as reply actions naming the entity', () => {
    const [go, keep] = forgetActions(12, 'P-88450');
    expect(go).toMatchObject({ kind: 'forget', danger: true, label: 'Forget P-88450' });
    expect(decodeAction(go!.value)).toMatchObject({ a: 'forget', e: 12, l: 'P-88450' });
    expect(decodeAction(keep!.value)).toMatchObject({ a: 'cancel', e: 12 });
  });

  it('button values round-trip, stay within Slack\'s limit, and anything else is refused', () => {
    const card = { itemId: 7, entityId: 3, band: 'good' as const, why: 'w'.repeat(5000) };
    const value = encodeAction('confirm', card, { text: 'q'.repeat(5000), typed: true });
    expect(value.length).toBeLessThanOrEqual(MAX_ACTION_VALUE);
    expect(decodeAction(value)).toMatchObject({ a: 'confirm', i: 7, e: 3, b: 'good', t: true });
    // Quotes and control characters grow under JSON escaping; the value still fits and still decodes.
    const escaped = encodeAction('reject', { ...card, why: '\u0001'.repeat(400) }, { text: '"'.repeat(1000), typed: true });
    expect(escaped.length).toBeLessThanOrEqual(MAX_ACTION_VALUE);
    expect((decodeAction(escaped) as { q: string }).q).toMatch(/^"+…$/);
    for (const bad of [value.replace('"i":7', '"i":-1'), value.replace('"v":1', '"v":2'), '[]', 'null', undefined, 7]) {
      expect(() => decodeAction(bad), String(bad).slice(0, 40)).toThrow(expect.objectContaining({ code: 'USAGE_INVALID' }));
    }
  });

  it('Name this person decodes as the group it names, and a forged or malformed one is refused', () => {
    const action = nameAction({ collectionId: 4, groupId: 31, itemId: 9 });
    expect(action).toMatchObject({ kind: 'name', label: 'Name this person' });
    expect(decodeAction(action.value)).toEqual({ v: 1, a: 'name', c: 4, g: 31, i: 9 });
    const forged = [
      '{"v":1,"a":"name","c":4,"g":31}',
      '{"v":1,"a":"name","c":4,"g":31,"i":9,"e":2}',
      '{"v":1,"a":"name","c":0,"g":31,"i":9}',
      '{"v":1,"a":"name","c":4,"g":-31,"i":9}',
      '{"v":1,"a":"name","c":4,"g":31.5,"i":9}',
      '{"v":1,"a":"name","c":"4","g":31,"i":9}',
      '{"v":1,"a":"name","c":4,"g":31,"i":null}',
      '{"v":2,"a":"name","c":4,"g":31,"i":9}',
      '{"v":1,"a":"Name","c":4,"g":31,"i":9}',
      '{"v":1,"a":"name","c":4,"g":1e400,"i":9}',
      // A search card's value cannot name a group either.
      encodeAction('confirm', { itemId: 9, entityId: null, band: null, why: '' }, { text: 'q', typed: true }).replace('"a":"confirm"', '"a":"name"'),
    ];
    for (const bad of forged) expect(() => decodeAction(bad), bad).toThrow(expect.objectContaining({ code: 'USAGE_INVALID' }));
  });
});
