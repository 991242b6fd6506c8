/**
 * The guards of network-guard.setup.ts, installed in this worker as in every other: lookups and
 * connections beyond loopback are refused and recorded (here and in node children), loopback and
 * unix sockets still work, a test whose code swallows the refusal still fails, and temporary
 * folders are tracked. Each test here takes what it provoked, so the setup's afterEach stays quiet.
 */
import { spawn } from 'node:child_process';
import dns, { lookup } from 'node:dns';
import fs from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { BLOCKED_CODE, isLoopbackHost, takeViolations } from './network-guard.mjs';
import type { WorkerGuards } from './network-guard.setup.js';

const blocked = (host: string) => expect.objectContaining({ code: BLOCKED_CODE, message: expect.stringContaining(`"${host}"`) });
/** The error a socket emits, or null once it connected. */
const outcome = (socket: net.Socket) =>
  new Promise<Error | null>((resolve) => {
    socket.once('error', resolve);
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
  });

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.200.0.9', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost', 'LocalHost'])('allows %s', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['example.com', '127.0.0.1.example.com', 'localhost.example.com', '0.0.0.0', '10.0.0.1', '169.254.169.254', '::', '::ffff:10.0.0.1', '', undefined])('refuses %s', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('the network guard', () => {
  it('refuses DNS lookups and queries of other hosts, naming them, in every API', async () => {
    await expect(dns.promises.lookup('example.com')).rejects.toEqual(blocked('example.com'));
    // The named ES import is a separate binding from the module object.
    const err = await new Promise<Error | null>((resolve) => lookup('example.org', (e) => resolve(e)));
    expect(err).toEqual(blocked('example.org'));
    await expect(dns.promises.resolve4('example.net')).rejects.toEqual(blocked('example.net'));
    await expect(new dns.promises.Resolver().resolveTxt('example.com')).rejects.toEqual(blocked('example.com'));
    const mx = await new Promise<Error | null>((resolve) => dns.resolveMx('example.com', (e) => resolve(e)));
    expect(mx).toEqual(blocked('example.com'));
    await expect(dns.promises.reverse('8.8.8.8')).rejects.toEqual(blocked('8.8.8.8'));
    expect(takeViolations().map((v) => `${v.via} ${v.host}`)).toEqual([
      'dns.promises.lookup example.com',
      'dns.lookup example.org',
      'dns.promises.resolve4 example.net',
      'dns.promises.Resolver#resolveTxt example.com',
      'dns.resolveMx example.com',
      'dns.promises.reverse 8.8.8.8',
    ]);
  });

  it('refuses connections to other hosts over net, tls, http, https and fetch', async () => {
    expect(await outcome(net.connect({ host: '203.0.113.7', port: 80 }))).toEqual(blocked('203.0.113.7'));
    expect(await outcome(net.connect(80, '127.0.0.1.example.com'))).toEqual(blocked('127.0.0.1.example.com'));
    expect(await outcome(tls.connect({ host: 'example.com', port: 443, servername: 'example.com' }))).toEqual(blocked('example.com'));
    const viaHttp = await new Promise<Error>((resolve) => http.get('http://example.com/', () => {}).on('error', resolve));
    expect(viaHttp).toEqual(blocked('example.com'));
    const viaHttps = await new Promise<Error>((resolve) => https.get('https://login.botframework.com/', () => {}).on('error', resolve));
    expect(viaHttps).toEqual(blocked('login.botframework.com'));
    const viaFetch = await fetch('https://example.com/').catch((e: Error) => e);
    expect((viaFetch as Error).cause).toEqual(blocked('example.com'));
    expect(takeViolations().map((v) => v.host)).toEqual(['203.0.113.7', '127.0.0.1.example.com', 'example.com', 'example.com', 'login.botframework.com', 'example.com']);
  });

  it('lets loopback and unix sockets through', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-guard-'));
    const socketPath = path.join(dir, 'guard.sock');
    const unix = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => unix.listen(socketPath, resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
      expect(await (await fetch(`http://localhost:${port}/`)).text()).toBe('ok');
      expect((await dns.promises.lookup('localhost')).address).toMatch(/^(127\.|::1$)/);
      expect(await outcome(net.connect({ path: socketPath }))).toBeNull();
      expect(takeViolations()).toEqual([]);
    } finally {
      server.close();
      unix.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('guards node children started with a clean environment, and hears what they blocked', async () => {
    const script = "require('dns').lookup('example.com', (e) => console.log(e && e.code))";
    const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    expect(stdout.trim()).toBe(BLOCKED_CODE);
    expect(takeViolations()).toEqual([{ host: 'example.com', via: 'dns.lookup', pid: child.pid }]);
  });

  // `fails`: these pass only if the setup's afterEach fails them, though their own code swallows the error.
  it.fails('fails a test whose code swallows a refused lookup', async () => {
    await dns.promises.lookup('example.com').catch(() => {});
  });
  it.fails('fails a test whose child swallows a refused connection', async () => {
    const child = spawn(process.execPath, ['-e', "require('net').connect(443, 'example.com').on('error', () => {})"], { env: {}, stdio: 'ignore' });
    await new Promise((resolve) => child.on('close', resolve));
  });
});

describe('the temp folder guard', () => {
  it('tracks folders made with mkdtempSync and fs/promises mkdtemp under os.tmpdir()', async () => {
    const guards = (globalThis as Record<symbol, WorkerGuards>)[Symbol.for('referent.test.workerGuards')]!;
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-guard-'));
    const b = await mkdtemp(path.join(os.tmpdir(), 'referent-guard-'));
    const c = await new Promise<string>((resolve, reject) => fs.mkdtemp(path.join(os.tmpdir(), 'referent-guard-'), (e, d) => (e ? reject(e) : resolve(d))));
    try {
      expect([a, b, c].map((d) => guards.tempDirs.has(d))).toEqual([true, true, true]);
    } finally {
      for (const d of [a, b, c]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
