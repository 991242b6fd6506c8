/**
 * Photos in and out of Slack. In: a posted file is downloaded with the bot token (only ever sent
 * to Slack's own hosts), bounded in size before and while it streams. Out: a card shows the photo
 * Slack already holds when it came from Slack, else one upload per workspace (files upload v2),
 * remembered in the catalogue, or a signed link to this server when a public URL is configured.
 */
import type { webApi } from '@slack/bolt';
import type { Catalog } from '../../src/catalog/catalog.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import type { MediaStore } from '../../src/media/media-store.js';
import { readBounded } from '../read-bounded.js';
import { publicThumbnailUrl } from '../web/media-links.js';
import type { SlackImage } from './blocks.js';

/** The parts of Slack's file object we read. */
export interface SlackFileRef {
  id: string;
  name?: string;
  mimetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
  /** Set on files Slack has not fully shared in the event (Slack Connect): ask files.info. */
  file_access?: string;
}

const PLATFORM = 'slack';
/** Image types an image block can show from a Slack file (Slack's own list). */
const BLOCK_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif']);
const MAX_RATE_LIMIT_WAITS = 3;

export const isImageFile = (f: SlackFileRef) => (f.mimetype ?? '').startsWith('image/');

/** Hosts that may receive the bot token: Slack's, and the configured API host (a proxy, or a test's fake). */
function mayCarryToken(url: URL, apiUrl: string): boolean {
  const host = url.hostname.toLowerCase();
  const slack = host === 'slack.com' || host.endsWith('.slack.com') || host.endsWith('.slack-edge.com');
  return ((slack && url.protocol === 'https:') || url.host === new URL(apiUrl).host);
}

export interface DownloadOptions {
  botToken: string;
  apiUrl: string;
  maxBytes: number;
}

/** A posted photo's bytes. Errors are ReferentErrors that say what to do. */
export async function downloadSlackFile(file: SlackFileRef, options: DownloadOptions): Promise<Uint8Array> {
  const name = file.name ?? file.id;
  if (!isImageFile(file)) throw new ReferentError(ErrorCode.UsageInvalid, `${name} is not a photo.`);
  if ((file.size ?? 0) > options.maxBytes) {
    throw new ReferentError(ErrorCode.ImageTooLarge, `${name} is ${(file.size! / 1048576).toFixed(1)} MB; I take photos up to ${(options.maxBytes / 1048576).toFixed(0)} MB.`);
  }
  const raw = file.url_private_download ?? file.url_private;
  if (!raw) throw new ReferentError(ErrorCode.NotFound, `Slack did not share ${name} with me.`);
  const url = new URL(raw);
  if (!mayCarryToken(url, options.apiUrl)) throw new ReferentError(ErrorCode.UsageInvalid, `${name} is not stored on Slack; I only download files from Slack.`);
  for (let attempt = 0; ; attempt++) {
    // fetch drops the Authorization header when a redirect leaves the origin.
    const response = await fetch(url, { headers: { authorization: `Bearer ${options.botToken}` }, redirect: 'follow' });
    if (response.status === 429 && attempt < MAX_RATE_LIMIT_WAITS) {
      await response.body?.cancel();
      await new Promise((r) => setTimeout(r, Math.min(30, Number(response.headers.get('retry-after')) || 1) * 1000));
      continue;
    }
    if (!response.ok || (response.headers.get('content-type') ?? '').startsWith('text/html')) {
      await response.body?.cancel();
      throw new ReferentError(ErrorCode.NotFound, `Slack did not give me ${name} (is the app in this conversation, with the files:read scope?).`);
    }
    return readBounded(response, options.maxBytes, name);
  }
}

export interface SlackImagesOptions {
  publicUrl?: string;
  /** Signs public media links (the web chat's token); links are unsigned when the server needs none. */
  mediaSecret?: string;
  log: (line: string) => void;
}

/** Pictures for cards, per workspace. */
export class SlackImages {
  /** Uploads under way, so two answers at once upload an image only once. */
  private readonly pending = new Map<string, Promise<string | null>>();
  /** Workspaces where the app may not upload (no files:write): cards there show titles only, and it is said once. */
  private readonly mayNotUpload = new Set<string>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly deps: { catalog: Catalog; media: MediaStore },
    private readonly options: SlackImagesOptions,
  ) {}

  /** Remembers that a photo posted in Slack is this image (only types an image block can show). */
  async remember(team: string, mediaKey: string, file: SlackFileRef): Promise<void> {
    if (BLOCK_IMAGE_TYPES.has(file.mimetype ?? '')) await this.deps.catalog.setPlatformFile({ platform: PLATFORM, workspace: team, mediaKey }, file.id);
  }

  /** A picture for each image; an image that cannot be shown is left out (its card shows the title). */
  async sources(team: string, mediaKeys: readonly string[]): Promise<Map<string, SlackImage>> {
    const out = new Map<string, SlackImage>();
    await Promise.all(
      [...new Set(mediaKeys)].map(async (key) => {
        const image = await this.source(team, key);
        if (image) out.set(key, image);
      }),
    );
    return out;
  }

  private async source(team: string, mediaKey: string): Promise<SlackImage | null> {
    const known = await this.deps.catalog.platformFile({ platform: PLATFORM, workspace: team, mediaKey });
    if (known) return { slack_file: { id: known } };
    const { publicUrl, mediaSecret } = this.options;
    if (publicUrl) return { image_url: publicThumbnailUrl(publicUrl, mediaKey, mediaSecret) };
    if (this.mayNotUpload.has(team)) return null;
    const slot = `${team}/${mediaKey}`;
    let upload = this.pending.get(slot);
    if (!upload) {
      upload = this.upload(team, mediaKey).finally(() => this.pending.delete(slot));
      this.pending.set(slot, upload);
    }
    const id = await upload;
    return id ? { slack_file: { id } } : null;
  }

  /** Files upload v2 without a channel: the file stays private to the app, which may show it in its messages. */
  private async upload(team: string, mediaKey: string): Promise<string | null> {
    try {
      const bytes = await this.deps.media.readThumbnail(mediaKey);
      const result = (await this.client.filesUploadV2({ file: bytes, filename: `referent-${mediaKey.slice(0, 12)}.jpg`, title: 'Referent image' })) as unknown as {
        files?: Array<{ files?: Array<{ id?: string }> }>;
      };
      const id = result.files?.[0]?.files?.[0]?.id;
      if (!id) throw new Error('files.completeUploadExternal returned no file id');
      await this.deps.catalog.setPlatformFile({ platform: PLATFORM, workspace: team, mediaKey }, id);
      return id;
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code === 'missing_scope' || code === 'not_allowed_token_type') {
        if (!this.mayNotUpload.has(team)) this.options.log(`slack: cards in ${team} show no images: the app may not upload files (${code}); add the files:write scope and reinstall, or set REFERENT_PUBLIC_URL.`);
        this.mayNotUpload.add(team);
      } else {
        this.options.log(`slack: could not upload image ${mediaKey.slice(0, 12)} for ${team}: ${err instanceof Error ? err.message : String(err)}`);
      }
      return null;
    }
  }
}
