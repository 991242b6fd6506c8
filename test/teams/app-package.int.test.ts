/**
 * The Teams app package: the manifest's bot wiring, icons that meet Teams' rules (sizes; outline only
 * white on transparent), and a zip that a reader other than our writer can take apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it, onTestFinished } from 'vitest';
import { teamsAppPackage, teamsIcons, teamsManifest, zipFiles } from '../../adapters/teams/app-package.js';
import { ErrorCode } from '../../src/errors.js';
import { tempDir } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';

const APP_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

interface Manifest {
  id: string;
  manifestVersion: string;
  description: { short: string; full: string };
  developer: Record<string, string>;
  bots: Array<{ botId: string; scopes: string[]; supportsFiles: boolean; commandLists: Array<{ commands: Array<{ title: string }> }> }>;
  validDomains: string[];
}

/** Reads a zip from its end: the end record locates the central directory, whose entries locate each local header. */
function unzip(zip: Buffer): Array<{ name: string; data: Buffer; crc: number }> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end).toBe(zip.length - 22);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  expect(at + zip.readUInt32LE(end + 12)).toBe(end);
  const entries = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    expect(zip.readUInt16LE(at + 10)).toBe(0); // stored
    const [crc, size, nameLength] = [zip.readUInt32LE(at + 16), zip.readUInt32LE(at + 24), zip.readUInt16LE(at + 28)];
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    expect(zip.readUInt32LE(local + 14)).toBe(crc);
    expect(zip.toString('utf8', local + 30, local + 30 + zip.readUInt16LE(local + 26))).toBe(name);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.push({ name, data: zip.subarray(start, start + size), crc });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

describe('Teams app package', () => {
  it('wires the bot by its app id, with files, scopes and the valid domain from the URL', () => {
    const manifest = teamsManifest({ appId: APP_ID, publicUrl: 'https://referent.example.com/', version: '1.0.0' }) as Manifest;
    expect(manifest.manifestVersion).toBe('1.17');
    expect(manifest.id).toBe(APP_ID);
    const [bot] = manifest.bots;
    expect(bot?.botId).toBe(APP_ID);
    expect(bot?.scopes).toEqual(['personal', 'team', 'groupChat']);
    expect(bot?.supportsFiles).toBe(true);
    expect(bot?.commandLists[0]?.commands.map((c) => c.title)).toEqual(['help', 'find', 'add', 'show', 'stats']);
    expect(manifest.validDomains).toEqual(['referent.example.com']);
    expect(manifest.developer.websiteUrl).toBe('https://referent.example.com');
    expect(manifest.description.short.length).toBeLessThanOrEqual(80);
    expect(manifest.description.full.length).toBeLessThanOrEqual(4000);

    const bare = teamsManifest({ appId: APP_ID, version: '1.0.0' }) as Manifest;
    expect(bare.validDomains).toEqual([]);
    for (const url of Object.values(bare.developer).slice(1)) expect(url).toMatch(/^https:\/\//);
  });

  it('refuses an app id that is not a GUID, and a URL that is not https', () => {
    for (const appId of ['', 'referent', `${APP_ID}0`, APP_ID.replace(/-/g, '')]) {
      expect(() => teamsManifest({ appId, version: '1.0.0' })).toThrow(expect.objectContaining({ code: ErrorCode.UsageInvalid }));
    }
    expect(() => teamsManifest({ appId: APP_ID, publicUrl: 'http://referent.example.com', version: '1.0.0' })).toThrow(
      expect.objectContaining({ code: ErrorCode.UsageInvalid }),
    );
  });

  it('draws a 192×192 colour icon and a 32×32 outline icon that is only white on transparent', async () => {
    const { color, outline } = await teamsIcons();
    expect(await sharp(color).metadata()).toMatchObject({ format: 'png', width: 192, height: 192 });
    expect(await sharp(outline).metadata()).toMatchObject({ format: 'png', width: 32, height: 32 });
    const { data, info } = await sharp(outline).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    let drawn = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a !== 0) drawn++;
      expect(a === 0 || (r === 255 && g === 255 && b === 255), `pixel ${i / 4}: ${r},${g},${b},${a}`).toBe(true);
    }
    expect(drawn).toBeGreaterThan(50); // something is drawn, not an empty square
  });

  it('zips what it is given, stored, with correct CRCs', () => {
    const files = [
      { name: 'a.txt', data: Buffer.from('hello') },
      { name: 'empty', data: Buffer.alloc(0) },
      { name: 'dir/b.bin', data: Buffer.from([0, 1, 2, 255]) },
    ];
    const entries = unzip(zipFiles(files));
    expect(entries.map((e) => e.name)).toEqual(files.map((f) => f.name));
    for (const [i, e] of entries.entries()) {
      expect(e.data.equals(files[i]!.data)).toBe(true);
      expect(e.crc).toBe(crc32(e.data));
    }
    expect(zipFiles(files).equals(zipFiles(files))).toBe(true); // reproducible
  });

  it('packages the manifest and both icons', async () => {
    const entries = unzip(await teamsAppPackage({ appId: APP_ID, version: '1.0.0' }));
    expect(entries.map((e) => e.name)).toEqual(['manifest.json', 'color.png', 'outline.png']);
    for (const e of entries) expect(e.crc).toBe(crc32(e.data));
    expect((JSON.parse(entries[0]!.data.toString('utf8')) as Manifest).id).toBe(APP_ID);
    const icons = await teamsIcons();
    expect(entries[1]!.data.equals(icons.color)).toBe(true);
    expect(entries[2]!.data.equals(icons.outline)).toBe(true);
  });

  it('is written by `referent teams-package`', async () => {
    const dir = tempDir();
    // The package's folder goes even when an expectation fails.
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'teams.zip');
    const ok = await runCli(['teams-package', '--app-id', APP_ID, '--out', out, '--url', 'https://referent.example.com']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(out);
    const zip = fs.readFileSync(out);
    expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
    expect(fs.existsSync(`${out}.tmp`)).toBe(false);
    expect(unzip(zip).map((e) => e.name)).toEqual(['manifest.json', 'color.png', 'outline.png']);

    expect((await runCli(['teams-package', '--app-id', 'not-a-guid', '--out', out])).code).toBe(2);
    expect((await runCli(['teams-package'])).code).toBe(2);
  });
});
