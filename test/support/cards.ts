/** A neutral result card as the assistant makes them, for the chat adapters' renderer tests. */
import type { Card } from '../../src/chat/reply.js';

export const sampleCard = (itemId: number, over: Partial<Card> = {}): Card => ({
  itemId,
  mediaKey: String(itemId).padStart(64, '0'),
  title: `P-${itemId}`,
  collection: 'parts',
  band: 'strong',
  why: 'its detail "brass" matches',
  more: 0,
  actions: (['confirm', 'reject', 'more'] as const).map((kind, i) => ({ kind, label: ["That's it", 'Not it', 'More like this'][i]!, value: `{"v":1,"a":"${kind}"}` })),
  ...over,
});
