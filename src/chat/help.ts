/** The help reply: what Referent does and how to ask, with examples. */
import type { Reply } from './reply.js';

export function helpReply(demoEncoder: boolean): Reply {
  const lines = [
    'I find parts and people in your team\'s photos. Ask in your own words, or post a photo.',
    '',
    'Examples:',
    '• brass elbow fitting, 1/2 inch, two threaded ends — searches (so does "find …")',
    '• a photo alone — finds similar images; a photo with words — searches with both',
    '• add P-20417: hex bolt M8, zinc — with photos, teaches me what P-20417 looks like',
    '• describe P-20417: grey head, washer underneath — adds a description',
    '• show P-20417 — what I know about it',
    '• forget P-20417 — admins only: removes it with its photos',
    '• faces — faces nobody has named yet, a group per person; faces name <group> <label> names one',
    '• who is this (with a photo) — the labelled person whose face it is, where faces are on',
    '• stats — what this conversation can search',
    '',
    'On every result: "That\'s it" and "Not it" teach me for next time; "More like this" finds similar images.',
  ];
  if (demoEncoder) {
    lines.push('', 'This is the demo encoder: it only understands colours (try "red" or "blue"). Pull a real model with `referent models pull <hub-id>`.');
  }
  return { kind: 'help', text: lines.join('\n'), cards: [] };
}
