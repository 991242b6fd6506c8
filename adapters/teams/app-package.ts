/**
 * The Teams app package: what an admin uploads in Teams → Apps → Manage your apps → Upload an app.
 * A zip of manifest.json and two icons, built from the Azure Bot's app id alone, so that setting up
 * Teams needs no manifest editing and no image editor. `referent teams-package` writes it.
 *
 * The icons are drawn as raw pixels and encoded through src/image/image-io.ts rather than rendered
 * from SVG with sharp here: sharp may be imported by that one file only (test/architecture.test.ts).
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { encodePixels } from '../../src/image/image-io.js';

export interface TeamsPackageOptions {
  /** The Azure Bot's Microsoft App ID: the manifest's id and the bot's botId. */
  appId: string;
  /** Referent's public https base URL, when it has one. */
  publicUrl?: string;
  /** The manifest's app version (semver); Teams wants it raised for every re-upload of changes. */
  version: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCOPES = ['personal', 'team', 'groupChat'];
// Placeholders for a Referent with no public address: Teams rejects a manifest without these three
// https URLs, but never fetches them. Replace them in manifest.json before publishing org-wide.
const PLACEHOLDER_URL = 'https://github.com/referent';

export function teamsManifest(options: TeamsPackageOptions): object {
  const appId = options.appId.trim();
  if (!GUID.test(appId)) {
    throw new ReferentError(
      ErrorCode.UsageInvalid,
      `"${options.appId}" is not an app id. Use the bot's Microsoft App ID, a GUID like 00000000-0000-0000-0000-000000000000: ` +
        'Azure portal → your Azure Bot → Configuration → Microsoft App ID.',
    );
  }
  let site = PLACEHOLDER_URL;
  const validDomains: string[] = [];
  if (options.publicUrl !== undefined) {
    const url = URL.canParse(options.publicUrl) ? new URL(options.publicUrl) : undefined;
    if (url?.protocol !== 'https:' || !url.host) {
      throw new ReferentError(ErrorCode.UsageInvalid, `Teams only talks to https addresses: --url https://referent.example.com, not "${options.publicUrl}".`);
    }
    // Referent serves no privacy or terms pages, so all three URLs point at its start page: one that exists.
    site = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    validDomains.push(url.host);
  }
  return {
    $schema: 'https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json',
    manifestVersion: '1.17',
    version: options.version,
    id: appId,
    developer: { name: 'Referent', websiteUrl: site, privacyUrl: site, termsOfUseUrl: site },
    name: { short: 'Referent', full: 'Referent: visual search for your team' },
    description: {
      short: 'Find parts and photos in your team’s image gallery by words or by photo.',
      full:
        'Referent searches your team’s image catalogue, on-premises. Describe what you are looking for ' +
        '("brass elbow, 1/2 inch") or send a photo, and Referent answers with the closest images and the ' +
        'parts or people they show, explaining each hit. Add new entities with photos and descriptions ' +
        'right from the chat, and confirm or reject hits to improve the next search. Each conversation ' +
        'only searches the collections an administrator granted to it.',
    },
    icons: { color: 'color.png', outline: 'outline.png' },
    accentColor: '#1F3A4D',
    bots: [
      {
        botId: appId,
        scopes: SCOPES,
        supportsFiles: true,
        isNotificationOnly: false,
        commandLists: [
          {
            scopes: SCOPES,
            commands: [
              { title: 'help', description: 'What I can do' },
              { title: 'find', description: 'find brass elbow, 1/2 inch' },
              { title: 'add', description: 'add P-20417: hex bolt M8 (with photos)' },
              { title: 'show', description: 'show P-20417' },
              { title: 'stats', description: 'What this conversation can search' },
            ],
          },
        ],
      },
    ],
    permissions: ['identity', 'messageTeamMembers'],
    validDomains,
  };
}

// --- icons: a magnifier over a photo, drawn as shapes and rasterised with 4×4 supersampling ---

type Shape = (x: number, y: number) => boolean;
/** A shape and its colour; `undefined` erases to transparent. Later layers cover earlier ones. */
type Layer = [Shape, [number, number, number] | undefined];

const rect = (x0: number, y0: number, x1: number, y1: number): Shape => (x, y) => x >= x0 && x < x1 && y >= y0 && y < y1;
const disc = (cx: number, cy: number, r: number): Shape => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx: number, cy: number, r0: number, r1: number): Shape => (x, y) => disc(cx, cy, r1)(x, y) && !disc(cx, cy, r0)(x, y);
const frame = (x0: number, y0: number, x1: number, y1: number, w: number): Shape => (x, y) => rect(x0, y0, x1, y1)(x, y) && !rect(x0 + w, y0 + w, x1 - w, y1 - w)(x, y);
/** A thick line with round ends: within `half` of the segment a–b. */
const stroke = (ax: number, ay: number, bx: number, by: number, half: number): Shape => (x, y) => {
  const [dx, dy] = [bx - ax, by - ay];
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= half * half;
};
/** Mountains in the photo: below the line through (x0,y) … (xPeak,yPeak) … (x1,y). */
const peak = (x0: number, x1: number, xPeak: number, yPeak: number, yBase: number): Shape => (x, y) =>
  x >= x0 && x <= x1 && y <= yBase && y >= yPeak + ((yBase - yPeak) * Math.abs(x - xPeak)) / (x <= xPeak ? xPeak - x0 : x1 - xPeak);

/** RGBA pixels; a transparent pixel keeps white RGB so the outline icon is white wherever it shows at all. */
function rasterise(size: number, layers: Layer[]): Uint8Array {
  const ss = 4;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sum = [0, 0, 0, 0];
      for (let i = 0; i < ss * ss; i++) {
        const [px, py] = [x + ((i % ss) + 0.5) / ss, y + (Math.floor(i / ss) + 0.5) / ss];
        const colour = layers.findLast(([shape]) => shape(px, py))?.[1];
        if (colour) [sum[0], sum[1], sum[2], sum[3]] = [sum[0]! + colour[0], sum[1]! + colour[1], sum[2]! + colour[2], sum[3]! + 1];
      }
      const o = (y * size + x) * 4;
      const covered = sum[3]!;
      for (let c = 0; c < 3; c++) data[o + c] = covered ? Math.round(sum[c]! / covered) : 255;
      data[o + 3] = Math.round((covered / (ss * ss)) * 255);
    }
  }
  return data;
}

const WHITE: [number, number, number] = [255, 255, 255];

export async function teamsIcons(): Promise<{ color: Buffer; outline: Buffer }> {
  // 192×192, full colour on the accent colour; Teams shows it in the app store and the app bar.
  const color = rasterise(192, [
    [rect(0, 0, 192, 192), [0x1f, 0x3a, 0x4d]],
    [rect(30, 42, 138, 126), [0xe8, 0xee, 0xf2]],
    [peak(38, 130, 74, 70, 118), [0x5b, 0x8b, 0xa6]],
    [peak(70, 130, 104, 84, 118), [0x3e, 0x6e, 0x8a]],
    [disc(112, 62, 9), [0xf2, 0xb8, 0x4b]],
    [stroke(138, 134, 164, 160, 9), [0xf2, 0xb8, 0x4b]],
    [ring(118, 112, 26, 36), WHITE],
  ]);
  // 32×32, white on transparent only, as Teams requires; the lens erases the frame behind it.
  const outline = rasterise(32, [
    [frame(3, 5, 23, 22, 2), WHITE],
    [disc(19, 18, 8), undefined],
    [ring(19, 18, 4.5, 6.5), WHITE],
    [stroke(23.5, 22.5, 28.5, 27.5, 1.6), WHITE],
  ]);
  return {
    color: await encodePixels({ data: color, width: 192, height: 192, channels: 4 }, 'png'),
    outline: await encodePixels({ data: outline, width: 32, height: 32, channels: 4 }, 'png'),
  };
}

/**
 * A minimal ZIP (APPNOTE 6.3), every file stored uncompressed: per file a local header (30 bytes +
 * name) then its bytes; then a central directory entry per file (46 bytes + name) pointing back at
 * its local header; then the end-of-central-directory record (22 bytes). All integers little-endian.
 * A fixed timestamp keeps the output byte-for-byte reproducible. No zip64: a few small files.
 */
export function zipFiles(files: Array<{ name: string; data: Buffer }>): Buffer {
  const [time, date] = [0, ((2024 - 1980) << 9) | (1 << 5) | 1]; // 2024-01-01 00:00 in DOS format
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // local file header signature
    local.writeUInt16LE(10, 4); // version needed: 1.0, stored
    local.writeUInt16LE(0x0800, 6); // flags: the name is UTF-8
    local.writeUInt16LE(0, 8); // method 0: stored
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18); // compressed size
    local.writeUInt32LE(data.length, 22); // uncompressed size
    local.writeUInt16LE(nameBytes.length, 26); // extra field length (28) stays 0
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); // central directory header signature
    central.writeUInt16LE(20, 4); // made by: MS-DOS, spec 2.0
    local.copy(central, 6, 4, 30); // needed … name length: the same fields as the local header
    central.writeUInt32LE(offset, 42); // comment, disk, attributes (32–41) stay 0; local header offset
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // end of central directory signature; disk numbers stay 0
  end.writeUInt16LE(files.length, 8); // entries on this disk
  end.writeUInt16LE(files.length, 10); // entries in total
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16); // where the central directory starts
  return Buffer.concat([...locals, directory, end]);
}

/** The uploadable package: manifest.json and the two icons it names. The manifest is checked first. */
export async function teamsAppPackage(options: TeamsPackageOptions): Promise<Buffer> {
  const manifest = Buffer.from(`${JSON.stringify(teamsManifest(options), null, 2)}\n`);
  const { color, outline } = await teamsIcons();
  return zipFiles([
    { name: 'manifest.json', data: manifest },
    { name: 'color.png', data: color },
    { name: 'outline.png', data: outline },
  ]);
}
