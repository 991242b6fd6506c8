/** Buttons on Teams cards: Universal Actions with their fallback, verdict marks, the label card, and reading a press back. */
import { describe, expect, it } from 'vitest';
import { cardResponse, hitCard, labelCard, messageResponse, pressOf, textCard } from '../../adapters/teams/cards.js';
import { cardActions, forgetActions } from '../../src/chat/cards.js';
import { sampleCard } from '../support/cards.js';

/** Teams refuses a message over about 28 KB (the renderer property test holds every card to it). */
const TEAMS_MAX_CARD_BYTES = 28_000;

describe('hitCard buttons', () => {
  it('are Action.Execute with an identical Action.Submit fallback, for clients without Universal Actions', () => {
    const { content } = hitCard(sampleCard(3), undefined);
    for (const action of content.actions!) {
      expect(action).toEqual({ type: 'Action.Execute', title: action.title, verb: 'referent', data: action.data, ...(action.style ? { style: 'positive' } : {}), fallback: { type: 'Action.Submit', title: action.title, data: action.data, ...(action.style ? { style: 'positive' } : {}) } });
    }
    expect(content.actions!.map((a) => a.style)).toEqual(['positive', undefined, undefined]);
  });

  it('fall back to Action.Submit alone when two copies of long values would not fit a Teams message', () => {
    // The longest values a query can make: 2000 characters of JSON each, in 3-byte characters.
    const actions = cardActions({ itemId: 1, entityId: null, band: 'weak', why: '界'.repeat(400) }, { text: '界'.repeat(1000), typed: true });
    const { content } = hitCard(sampleCard(1, { actions, title: '"'.repeat(500), why: '界'.repeat(2000), verdict: 'Confirmed by ' + '\u0001'.repeat(300) }), undefined);
    expect(content.actions!.map((a) => a.type)).toEqual(['Action.Submit', 'Action.Submit', 'Action.Submit']);
    expect(Buffer.byteLength(JSON.stringify(content))).toBeLessThan(TEAMS_MAX_CARD_BYTES);
  });

  it('marks a confirmation ✓ and a rejection ✗', () => {
    const shown = (verdict: string) => JSON.stringify(hitCard(sampleCard(2, { verdict }), undefined).content.body);
    expect(shown('Confirmed by Alice')).toContain('✓ Confirmed by Alice');
    expect(shown('Rejected by Bob')).toContain('✗ Rejected by Bob');
    expect(shown('Rejected by Bob')).not.toContain('✓');
  });
});

describe('textCard with reply buttons', () => {
  it("shows forget's question with Forget (destructive) and Keep it", () => {
    const { content } = textCard({ kind: 'info', text: 'Forget P-1?', cards: [], actions: forgetActions(9, 'P-1') });
    expect(content.actions!.map((a) => [a.type, a.title, a.style, (a.fallback as { style?: string }).style])).toEqual([
      ['Action.Execute', 'Forget P-1', 'destructive', 'destructive'],
      ['Action.Execute', 'Keep it', undefined, undefined],
    ]);
    expect(textCard({ kind: 'info', text: 'Kept P-1.', cards: [] }).content.actions).toBeUndefined();
  });
});

describe('labelCard', () => {
  const ask = { title: 'Unlabelled image #4', prompt: 'What does Unlabelled image #4 show?', value: '{"v":1,"a":"confirm"}' };

  it('asks with an empty required text field, and a button carrying the same value back', () => {
    const { content } = labelCard(ask);
    const input = content.body.find((e) => e.type === 'Input.Text')!;
    expect(input).toMatchObject({ id: 'label', placeholder: 'P-20417', isRequired: true, maxLength: 200 });
    expect(input).not.toHaveProperty('value');
    expect(content.actions).toEqual([expect.objectContaining({ type: 'Action.Execute', data: { referent: ask.value }, fallback: expect.objectContaining({ type: 'Action.Submit', data: { referent: ask.value } }) })]);
  });

  it('shows a refusal above the field, literally', () => {
    const json = JSON.stringify(labelCard(ask, 'A label is one line *without* a colon.').content.body);
    expect(json).toContain('⚠️ A label is one line *without* a colon.');
    expect(labelCard(ask, '{{DATE(2017-02-14T06:08:39Z)}}').content.body.some((e) => JSON.stringify(e).includes('{{'))).toBe(false);
  });
});

describe('pressOf', () => {
  it('reads our value and a typed label; anything without our key is not ours', () => {
    expect(pressOf({ referent: 'v' })).toEqual({ value: 'v' });
    expect(pressOf({ referent: 'v', label: 'P-1' })).toEqual({ value: 'v', label: 'P-1' });
    // Ours but malformed: the assistant answers that it is not one of its buttons.
    expect(pressOf({ referent: 42 })).toEqual({ value: 42 });
    for (const foreign of [{ other: 'x' }, null, 'referent', ['referent'], 7, Object.create({ referent: 'inherited' })]) expect(pressOf(foreign)).toBeNull();
  });
});

describe('invoke response bodies', () => {
  it('are the Universal Actions shapes: a card to redraw, or a message', () => {
    const card = textCard({ kind: 'info', text: 'x', cards: [] });
    expect(cardResponse(card)).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card.content });
    expect(messageResponse('Only an admin can make me forget something.')).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'Only an admin can make me forget something.' });
  });
});
