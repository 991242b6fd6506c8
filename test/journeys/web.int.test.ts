/**
 * The three ways people use Referent (README.md "Try it"), as scripted conversations on
 * the demo gallery through the web chat's HTTP API: find, teach, review as a team. Each step
 * asserts what a person sees: the first card's title, its band, the reply's words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { button, type DemoWorld, demoWorld, flatPhoto, webChat } from './demo-world.js';

let world: DemoWorld;
let chat: ReturnType<typeof webChat>;

beforeAll(async () => {
  world = await demoWorld();
  chat = webChat(world.server.base);
}, 120_000);
afterAll(() => world?.close());

/** A photo of an entity nobody labelled (its last view), and one that was labelled. */
const unlabelledView = (label: string) => world.gallery.entities.find((e) => e.label === label)!.unlabelledViews.at(-1)!;
const labelledView = (label: string) => world.gallery.entities.find((e) => e.label === label)!.images[0]!;

describe('find: a description, a part number, a photo, a photo with words', () => {
  it('a description finds the entity it describes first, as a strong match with its other photos folded in', async () => {
    const reply = await chat.say('red valve');
    expect(reply.text).toBe('5 matches for "red valve".');
    expect(reply.cards[0]).toMatchObject({ title: 'P-40981', band: 'strong' });
    expect(reply.cards[0]!.more).toBeGreaterThan(0);
  });

  it.each(['P-20417', 'p20417', 'P 20417', 'show me P-20417 please'])('the part number "%s" puts the part first, with all its photos', async (query) => {
    const reply = await chat.say(query);
    const [first] = reply.cards;
    expect(first).toMatchObject({ title: 'P-20417', band: 'strong' });
    expect(first!.why).toMatch(/its label is "P-20417"/);
    // Its three labelled photos are one card: the best one and "+2 more".
    expect(first!.more).toBe(2);
    // Nothing else claims to be a strong match for a number only P-20417 carries, and no card whose
    // why line shows a similarity of nothing claims to match at all.
    for (const card of reply.cards.slice(1)) {
      expect(card.band).not.toBe('strong');
      if (/\(0\.0\d\)/.test(card.why)) expect(card.band, card.why).toBe('weak');
    }
  });

  it('a photo from the gallery finds that very image first', async () => {
    for (const file of [unlabelledView('P-70112'), unlabelledView('P-55210'), world.gallery.unlabelled.find((f) => f.includes('people'))!]) {
      const reply = await chat.say('', [world.photo(file)]);
      expect(reply.text).toMatch(/matches? for your photo/);
      expect(reply.cards[0]!.itemId, file).toBe((await world.itemOf(file)).id);
      expect(reply.cards[0]!.why).toMatch(/image itself matches \(1\.00\)/);
    }
  });

  it('a labelled photo finds its entity first; a photo with words searches with both', async () => {
    const photo = world.photo(labelledView('P-88450'));
    expect((await chat.say('', [photo])).cards[0]).toMatchObject({ title: 'P-88450', band: 'strong' });
    const both = await chat.say('orange nut', [photo]);
    expect(both.text).toMatch(/matches for "orange nut"/);
    expect(both.cards[0]).toMatchObject({ title: 'P-88450' });
  });
});

describe('teach: new photos, re-posted photos, descriptions', () => {
  it('a new photo with "add" is found by its own description next time', async () => {
    const added = await chat.say('add TEST-1: a small blue widget', [await flatPhoto([20, 40, 230])]);
    expect(added.kind).toBe('info');
    expect(added.text).toMatch(/^Added 1 photo of TEST-1 to parts\./);
    const found = await chat.say('small blue widget');
    expect(found.cards[0]).toMatchObject({ title: 'TEST-1' });
    expect((await chat.say('TEST-1')).cards[0]).toMatchObject({ title: 'TEST-1', band: 'strong' });
  });

  it('a photo already in the gallery, re-posted with "add", is linked to the label with its description', async () => {
    const file = unlabelledView('P-12007');
    const before = await world.itemOf(file);
    expect(before.entityLabel).toBeNull();
    const linked = await chat.say('add TEST-2: a coiled hose on the shelf', [world.photo(file)]);
    expect(linked.kind).toBe('info');
    expect(linked.text).toMatch(/^Linked 1 photo already in the gallery to TEST-2\./);
    expect((await world.itemOf(file)).entityLabel).toBe('TEST-2');
    const shown = await chat.say('show TEST-2');
    expect(shown.text).toMatch(/^TEST-2 \(parts\): 1 photo, 1 description\.\n• a coiled hose on the shelf/);
    // Not a search: no band on the cards.
    expect(shown.cards[0]!.band).toBeUndefined();
    expect((await chat.say('coiled hose on the shelf')).cards[0]).toMatchObject({ title: 'TEST-2' });
  });

  it('a photo that already shows another part stays there, and the reply says whose it is', async () => {
    const reply = await chat.say('add TEST-3: something else', [world.photo(labelledView('P-55210'))]);
    expect(reply.text).toMatch(/A photo you posted is already P-55210 \(image #\d+\); it stays there\./);
    expect(reply.text).toMatch(/Kept the description for TEST-3\./);
    expect((await world.itemOf(labelledView('P-55210'))).entityLabel).toBe('P-55210');
  });

  it('describe adds words that the next search uses', async () => {
    expect((await chat.say('describe P-88450: the nut from the pump housing')).text).toMatch(/^Noted: P-88450/);
    expect((await chat.say('nut from the pump housing')).cards[0]).toMatchObject({ title: 'P-88450' });
  });
});

describe('review as a team: verdicts change the next answer, forget asks first', () => {
  it('"Not it" on an entity card moves that entity down in the next answer, and says so', async () => {
    const first = await chat.say('golden elbow');
    expect(first.cards[0]!.title).toBe('P-31552');
    const result = await chat.press(button(first.cards[0]!, 'reject'));
    expect(result.card?.verdict).toBe('Rejected by you');
    expect(result.replies[0]!.text).toMatch(/P-31552 will rank lower for questions like this one/);
    const next = await chat.say('golden elbow');
    expect(next.cards[0]!.title).not.toBe('P-31552');
    const again = next.cards.find((c) => c.title === 'P-31552');
    if (again) expect(again.why).toMatch(/marked "not it"/);
  });

  it('"Not it" on a photo search changes the next search with the same photo', async () => {
    const photo = world.photo(unlabelledView('P-60330'));
    const first = await chat.say('', [photo]);
    const top = first.cards[0]!;
    const result = await chat.press(button(top, 'reject'));
    expect(result.replies[0]!.text).toMatch(/rank lower for photos like this one/);
    const next = await chat.say('', [photo]);
    expect(next.cards[0]!.itemId).not.toBe(top.itemId);
  });

  it('"That\'s it" on a photo nobody labelled asks for the label, then links it', async () => {
    const file = world.gallery.unlabelled.find((f) => f.includes('people'))!;
    const found = await chat.say('', [world.photo(file)]);
    const { id } = await world.itemOf(file);
    const card = found.cards.find((c) => c.itemId === id)!;
    const asked = await chat.press(button(card, 'confirm'));
    expect(asked.card).toBeNull();
    expect(asked.askLabel).toMatchObject({ itemId: card.itemId, prompt: expect.stringMatching(/Give it a label/) });
    const bad = await chat.press(asked.askLabel!.value, 'a: b');
    expect(bad.replies[0]).toMatchObject({ kind: 'error', text: expect.stringMatching(/without a colon/) });
    const done = await chat.press(asked.askLabel!.value, 'visitor-Z');
    expect(done.card).toMatchObject({ title: 'visitor-Z', verdict: 'Confirmed by you' });
    expect(done.replies[0]!.text).toMatch(/this image is now visitor-Z/);
    expect((await chat.say('show visitor-Z')).text).toMatch(/^visitor-Z \(people\): 1 photo/);
  });

  it('forget names what goes and waits for the button', async () => {
    const asked = await chat.say('forget P-88450');
    expect(asked.text).toMatch(/^Forget P-88450 \(parts\) and its 2 photos, with its descriptions and verdicts\? This cannot be undone\./);
    expect(asked.actions?.map((a) => a.label)).toEqual(['Forget P-88450', 'Keep it']);
    expect((await chat.say('show P-88450')).kind).toBe('results');
    const done = await chat.press(asked.actions![0]!.value);
    expect(done.update?.text).toMatch(/^Forgotten by you: P-88450 \(parts\), with its 2 photos, descriptions and verdicts\./);
    expect((await chat.say('show P-88450')).kind).toBe('error');
    expect((await chat.say('P-88450')).cards.map((c) => c.title)).not.toContain('P-88450');
  });
});
