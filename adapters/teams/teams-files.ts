/**
 * Photos attached to a Teams message. Two shapes: an inline picture (`image/*` with a contentUrl
 * on the Bot Framework service, fetched with the bot's token, which goes nowhere else) and a file
 * from a personal chat (`application/vnd.microsoft.teams.file.download.info`, whose downloadUrl is
 * pre-authenticated). Both are bounded in size before and while they stream.
 */
import type { Attachment } from 'botbuilder';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { readBounded } from '../read-bounded.js';

const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
const IMAGE_TYPES = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp', 'tif', 'tiff', 'avif', 'heic']);

export interface TeamsPhoto {
  name: string;
  url: string;
  /** Whether the bot's token must go with the request (inline pictures on the Bot Framework service). */
  withToken: boolean;
}

/** The photos among a message's attachments (Teams also attaches the message's own HTML: skipped). */
export function photosOf(attachments: readonly Attachment[] | undefined): TeamsPhoto[] {
  const photos: TeamsPhoto[] = [];
  for (const a of attachments ?? []) {
    if (a.contentType?.startsWith('image/') && a.contentUrl) {
      photos.push({ name: a.name ?? 'photo', url: a.contentUrl, withToken: true });
    } else if (a.contentType === FILE_DOWNLOAD_INFO) {
      const content = a.content as { downloadUrl?: string; fileType?: string } | undefined;
      if (content?.downloadUrl && IMAGE_TYPES.has((content.fileType ?? '').toLowerCase())) photos.push({ name: a.name ?? 'photo', url: content.downloadUrl, withToken: false });
    }
  }
  return photos;
}

/** Files that are attached but are not photos (so the reply can say so). */
export function otherFiles(attachments: readonly Attachment[] | undefined): string[] {
  return (attachments ?? []).filter((a) => a.contentType === FILE_DOWNLOAD_INFO && photosOf([a]).length === 0).map((a) => a.name ?? 'a file');
}

/** Hosts that may receive the bot token: the conversation's own service and Microsoft's Bot Framework hosts. */
function mayCarryToken(url: URL, serviceUrl: string): boolean {
  const host = url.hostname.toLowerCase();
  const microsoft = ['.botframework.com', '.trafficmanager.net', '.teams.microsoft.com', '.skype.com'].some((d) => host.endsWith(d));
  return (microsoft && url.protocol === 'https:') || url.host === new URL(serviceUrl).host;
}

export interface TeamsDownloadOptions {
  serviceUrl: string;
  maxBytes: number;
  /** The bot's bearer token for the service, or null in local mode. */
  token: () => Promise<string | null>;
}

export async function downloadTeamsPhoto(photo: TeamsPhoto, options: TeamsDownloadOptions): Promise<Uint8Array> {
  let url: URL;
  try {
    url = new URL(photo.url);
  } catch {
    throw new ReferentError(ErrorCode.UsageInvalid, `${photo.name} has no address I can read.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ReferentError(ErrorCode.UsageInvalid, `${photo.name} has no address I can read.`);
  const headers: Record<string, string> = {};
  if (photo.withToken) {
    if (!mayCarryToken(url, options.serviceUrl)) throw new ReferentError(ErrorCode.UsageInvalid, `${photo.name} is not stored by Teams; I only download attachments from Teams.`);
    const token = await options.token();
    if (token) headers.authorization = `Bearer ${token}`;
  }
  const response = await fetch(url, { headers, redirect: 'follow' });
  if (!response.ok) {
    await response.body?.cancel();
    throw new ReferentError(ErrorCode.NotFound, `Teams did not give me ${photo.name} (HTTP ${response.status}).`);
  }
  return readBounded(response, options.maxBytes, photo.name);
}
