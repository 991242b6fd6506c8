import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/chat/message.js';

describe('parseCommand', () => {
  it.each([
    ['brass elbow fitting, 1/2 inch', false, { kind: 'find', text: 'brass elbow fitting, 1/2 inch' }],
    ['find red cap', false, { kind: 'find', text: 'red cap' }],
    ['Search: red cap', false, { kind: 'find', text: 'red cap' }],
    ['', true, { kind: 'find', text: '' }],
    ['a red one like this', true, { kind: 'find', text: 'a red one like this' }],
    ['', false, { kind: 'help' }],
    ['HELP', false, { kind: 'help' }],
    ['?', false, { kind: 'help' }],
    ['help me find a bolt', false, { kind: 'find', text: 'help me find a bolt' }],
    ['stats', false, { kind: 'stats' }],
    ['add P-20417: hex bolt M8, zinc', true, { kind: 'add', label: 'P-20417', text: 'hex bolt M8, zinc' }],
    ['add P-20417', true, { kind: 'add', label: 'P-20417', text: '' }],
    ['add "hex bolt" in parts: zinc: M8', false, { kind: 'add', label: 'hex bolt', collection: 'parts', text: 'zinc: M8' }],
    ['describe P-20417: grey head, washer', false, { kind: 'describe', label: 'P-20417', text: 'grey head, washer' }],
    ['show “P-20417”', false, { kind: 'show', label: 'P-20417' }],
    ['show me the red ones', false, { kind: 'find', text: 'show me the red ones' }],
    ['forget visitor-A', false, { kind: 'forget', label: 'visitor-A' }],
  ] as const)('%j (photos: %s)', (text, photos, expected) => {
    expect(parseCommand(text, photos)).toEqual(expected);
  });

  it.each([
    ['find', false],
    ['add P-1', false],
    ['add : something', false],
    ['describe P-1', false],
    ['describe : text', false],
    ['show', false],
    ['forget ""', false],
    // Found by the parser property: a quoted collection name with nothing inside.
    ['add \u201c in \u201c":', true],
  ])('explains how to use %j', (text, photos) => {
    expect(parseCommand(text, photos).kind).toBe('usage');
  });
});
