/**
 * The web chat's JSON API: the session (model, demo notice, help), messages with photos (base64 in
 * JSON), and card buttons. The person at the page is the local operator ("web:local").
 */
import type http from 'node:http';
import { z } from 'zod';
import type { Assistant } from '../../src/chat/assistant.js';
import type { ChatScope, ChatUser } from '../../src/chat/message.js';
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { readBody, sendError, sendJson } from './respond.js';

export const WEB_SCOPE: ChatScope = { platform: 'web', workspace: 'local', channel: 'chat' };
export const WEB_USER: ChatUser = { platform: 'web', id: 'local', name: 'you' };
const MAX_IMAGES = 4;
const MAX_CHAT_BODY = 64 * 2 ** 20;

export const DEMO_NOTICE =
  'This is the demo encoder: a tiny generated model that only understands colours (try "red" or "golden elbow"). ' +
  'For real search, pull a CLIP model (`npx referent models pull <hub-id>`, or copy a model folder into models/) and start Referent with REFERENT_MODEL set to it.';

const chatBody = (maxTextChars: number) =>
  z.object({
    text: z.string().max(maxTextChars, `A message is at most ${maxTextChars} characters.`).default(''),
    images: z
      .array(z.object({ name: z.string().max(300).optional(), type: z.string().max(100).optional(), data: z.string() }))
      .max(MAX_IMAGES, `Attach at most ${MAX_IMAGES} photos to one message.`)
      .default([]),
  });

/** A button's value; `label` when the page asked for one (That's it on a photo nobody labelled). */
const actionBody = z.object({ value: z.string().max(4000), label: z.string().max(1000).optional() });

async function jsonBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    // Also what keeps other sites' forms out: they cannot send JSON without a CORS preflight.
    throw new ReferentError(ErrorCode.UsageInvalid, 'Send JSON (content-type: application/json).');
  }
  try {
    return JSON.parse((await readBody(req, limit)).toString('utf8'));
  } catch (err) {
    if (err instanceof ReferentError) throw err;
    throw new ReferentError(ErrorCode.UsageInvalid, 'The request body is not valid JSON.');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ReferentError(ErrorCode.UsageInvalid, result.error.issues[0]?.message ?? 'Bad request.');
  return result.data;
}

export async function handleChatApi(assistant: Assistant, config: Config, pathname: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (pathname === '/api/session') {
    if (req.method !== 'GET') return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET.');
    const demo = assistant.demoEncoder;
    return sendJson(res, 200, { model: assistant.modelName, demoEncoder: demo, demoNotice: demo ? DEMO_NOTICE : null, user: WEB_USER.name, help: assistant.help() });
  }
  if (req.method !== 'POST') return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Use POST.');
  if (pathname === '/api/action') {
    const { value, label } = parse(actionBody, await jsonBody(req, 16 * 1024));
    return sendJson(res, 200, await assistant.act(value, WEB_USER, WEB_SCOPE, label === undefined ? undefined : { label }));
  }
  // Base64 is 4/3 of the bytes, plus room for the text and the JSON around it; never more than
  // MAX_CHAT_BODY, whatever the per-image limit, since the body is held in memory while parsed.
  const limit = Math.min(MAX_CHAT_BODY, Math.ceil((MAX_IMAGES * config.maxImageBytes * 4) / 3) + 64 * 1024);
  const body = parse(chatBody(config.maxTextChars), await jsonBody(req, limit));
  const images = body.images.map((img) => {
    const bytes = Buffer.from(img.data, 'base64');
    if (bytes.length === 0) throw new ReferentError(ErrorCode.ImageEmpty, `${img.name ?? 'A photo'} is empty.`);
    if (bytes.length > config.maxImageBytes) throw new ReferentError(ErrorCode.ImageTooLarge, `${img.name ?? 'A photo'} is larger than ${Math.round(config.maxImageBytes / 2 ** 20)} MiB.`);
    return new Uint8Array(bytes);
  });
  const replies = await assistant.handle({ text: body.text, images, user: WEB_USER, scope: WEB_SCOPE });
  sendJson(res, 200, { replies });
}
