/** Slack views: the App Home tab, and the two dialogs (Add as reference, and which label a photo shows). */
import type { Reply } from '../../src/chat/reply.js';
import { type Block, clip, mrkdwn, plain } from './text.js';

const MAX_SECTION_TEXT = 3000;
const MAX_CONTEXT_TEXT = 2000;
const MAX_PLACEHOLDER = 150;
const MAX_LABEL_CHARS = 200;

export const ADD_REFERENCE_VIEW = 'referent.add_reference';
export const LABEL_VIEW = 'referent.label';

const DEMO_NOTICE =
  ':information_source: This Referent runs the *demo encoder*, a tiny generated model that only understands colours. An admin can pull a real CLIP model (`referent models pull`).';

/** The App Home tab: what Referent is, how to ask, and the help text. */
export function homeView(help: Reply, modelName: string, demoEncoder: boolean): { type: 'home'; blocks: Block[] } {
  const blocks: Block[] = [
    { type: 'header', text: plain('Referent: find a part or a person in your team’s photos', 150) },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          '*Ask anywhere:* mention me in a channel (`@Referent brass elbow, 1/2 inch`), write to me here in Messages, or use `/referent` (only you see its answer, until you share it).\n' +
          '*Photos:* post one with a mention to find similar images, or with `add P-20417: hex bolt M8` to teach me.\n' +
          '*Message shortcuts* (the ⋯ menu of a message with a photo): *Find similar* and *Add as reference*.\n' +
          "*Each answer* has That's it · Not it · More like this: one click teaches me for next time.",
      },
    },
    { type: 'divider' },
    { type: 'section', text: mrkdwn(help.text, MAX_SECTION_TEXT) },
    { type: 'context', elements: [plain(`Model: ${modelName}. Each channel sees only the collections an admin shared with it.`, MAX_CONTEXT_TEXT)] },
  ];
  if (demoEncoder) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: DEMO_NOTICE }] });
  return { type: 'home', blocks };
}

const input = (id: string, label: string, element: Record<string, unknown>, optional: boolean, hint?: string) => ({
  type: 'input',
  block_id: id,
  optional,
  label: plain(label, 2000),
  element: { type: 'plain_text_input', action_id: 'value', ...element },
  ...(hint ? { hint: plain(hint, 2000) } : {}),
});

/**
 * The "Add as reference" dialog: a label (required), what it looks like, and the collection. Every
 * field starts empty: the message's text ("anyone know what this is?") is rarely a description,
 * and a prefilled one would be stored if submitted unchanged. It shows as a placeholder instead.
 */
export function addReferenceModal(privateMetadata: string, caption: string): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: ADD_REFERENCE_VIEW,
    private_metadata: privateMetadata,
    title: plain('Add as reference', 24),
    submit: plain('Add', 24),
    close: plain('Cancel', 24),
    blocks: [
      input('label', 'What is it? (part number, name)', { max_length: MAX_LABEL_CHARS, placeholder: plain('P-20417', MAX_PLACEHOLDER) }, false, 'Photos with the same label build one reference.'),
      input('text', 'What it looks like', { multiline: true, max_length: 2000, placeholder: plain(caption.trim() ? clip(caption, MAX_PLACEHOLDER) : 'hex bolt M8, zinc, with a washer', MAX_PLACEHOLDER) }, true),
      input('collection', 'Collection', { max_length: 200 }, true, 'Leave empty to use this channel’s collection.'),
    ],
  };
}

/** "That's it" on a photo nobody labelled, or Name this person: which label it shows (the field starts empty). */
export function labelModal(ask: { title: string; prompt: string; submit?: string }, privateMetadata: string): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: LABEL_VIEW,
    private_metadata: privateMetadata,
    title: plain('Name this photo', 24),
    submit: plain(ask.submit ?? 'Link', 24),
    close: plain('Cancel', 24),
    blocks: [
      { type: 'section', text: plain(ask.prompt, MAX_SECTION_TEXT) },
      input('label', 'Label', { max_length: MAX_LABEL_CHARS, placeholder: plain('P-20417', MAX_PLACEHOLDER) }, false, 'Photos with the same label build one reference: use the one your team already uses.'),
    ],
  };
}
