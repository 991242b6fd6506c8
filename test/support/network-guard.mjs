/**
 * Keeps tests on this machine: once installed, a DNS lookup or query, or a TCP/TLS connection, to
 * anything but loopback (127.0.0.0/8, ::1, localhost) or a unix socket fails at once with an error
 * naming the host, and is recorded so the test that made it can be failed even when the code
 * under test swallows the error (botbuilder answers a failed key fetch with a 500, for instance).
 *
 * Plain JavaScript so that child processes can load it too: vitest workers install it from
 * network-guard.setup.ts, which also adds `--import` of this file to the NODE_OPTIONS of every
 * node child a test starts, with REFERENT_NET_GUARD_LOG naming a file where the child appends what
 * it blocked (the child's own errors would otherwise die with it).
 *
 * Not covered: UDP (dgram), worker threads (they have their own copies of node:net and node:dns),
 * and processes that are not node (Chromium under Playwright).
 */
import dns from 'node:dns';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/** The `code` of every refusal, so a test can tell the guard's error from a real network failure. */
export const BLOCKED_CODE = 'ERR_TEST_NETWORK_BLOCKED';
/** Set in a child's environment: the file it appends its violations to, one JSON object a line. */
export const CHILD_LOG_ENV = 'REFERENT_NET_GUARD_LOG';

// One state per process: vitest may run several test files in one worker, and each runs the setup file.
const STATE = Symbol.for('referent.test.networkGuard');

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (also bracketed, also IPv4-mapped) and `localhost`; not names that merely start like them. */
export function isLoopbackHost(host) {
  if (typeof host !== 'string') return false;
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  const family = net.isIP(bare);
  try {
    return family !== 0 && loopback.check(bare, family === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
}

function refuse(state, via, host) {
  const violation = { host: String(host), via, pid: process.pid };
  state.violations.push(violation);
  const log = process.env[CHILD_LOG_ENV];
  if (log) {
    try {
      fs.appendFileSync(log, `${JSON.stringify(violation)}\n`);
    } catch {
      // The parent may already have removed its log at the end of its file; the error below still reaches the caller.
    }
  }
  const err = new Error(`network guard: ${via} of ${JSON.stringify(String(host))} blocked; tests may reach only 127.0.0.0/8, ::1 and localhost (test/support/network-guard.mjs)`);
  err.code = BLOCKED_CODE;
  err.hostname = String(host);
  return err;
}

/** Wraps `target[name](host, …, callback)`: a non-loopback host gets the guard's error in its callback. */
function guardCallbackApi(state, target, name, via) {
  const original = target[name];
  if (typeof original !== 'function') return;
  target[name] = function guarded(host, ...rest) {
    if (isLoopbackHost(host)) return original.call(this, host, ...rest);
    const err = refuse(state, via, host);
    const callback = rest.findLast((a) => typeof a === 'function');
    if (!callback) throw err;
    process.nextTick(callback, err);
    return {};
  };
}

/** Wraps `target[name](host, …)` returning a promise: a non-loopback host gets a rejection. */
function guardPromiseApi(state, target, name, via) {
  const original = target[name];
  if (typeof original !== 'function') return;
  target[name] = function guarded(host, ...rest) {
    if (isLoopbackHost(host)) return original.call(this, host, ...rest);
    return Promise.reject(refuse(state, via, host));
  };
}

/**
 * The host a `socket.connect(...)` call goes to, as net's own normalizeArgs reads its forms:
 * (options[, cb]), the internal [options, cb] array, (path[, cb]) and (port[, host][, cb]).
 * null for a unix socket or named pipe, which never leaves the machine.
 */
function connectTarget(args) {
  const [first, second] = Array.isArray(args[0]) ? args[0] : args;
  if (first !== null && typeof first === 'object') return first.path ? null : first.host || 'localhost';
  if (typeof first === 'string' && !(Number(first) >= 0)) return null;
  return typeof second === 'string' && second !== '' ? second : 'localhost';
}

/**
 * Installs the guard in this process (once; later calls return the same state). A parent sets
 * `state.childLog` to the file its guarded children append to (CHILD_LOG_ENV in their environment).
 */
export function installNetworkGuard() {
  if (globalThis[STATE]) return globalThis[STATE];
  const state = { violations: [], childLog: undefined };
  globalThis[STATE] = state;

  // Every connection, plain or TLS (tls.connect, http, https, fetch and http2 all end in Socket#connect).
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const host = connectTarget(args);
    if (host === null || isLoopbackHost(host)) return connect.apply(this, args);
    const err = refuse(state, 'connection', host);
    process.nextTick(() => this.destroy(err));
    return this;
  };

  // Name lookups and DNS queries that need no socket of ours: c-ares speaks to the DNS server itself.
  const queries = Object.keys(dns.Resolver.prototype).filter((n) => /^(resolve|reverse)/.test(n));
  guardCallbackApi(state, dns, 'lookup', 'dns.lookup');
  guardCallbackApi(state, dns, 'lookupService', 'dns.lookupService');
  guardPromiseApi(state, dns.promises, 'lookup', 'dns.promises.lookup');
  guardPromiseApi(state, dns.promises, 'lookupService', 'dns.promises.lookupService');
  for (const name of queries) {
    // The module's resolve*() are bound copies of the default resolver's: both need the guard.
    guardCallbackApi(state, dns, name, `dns.${name}`);
    guardCallbackApi(state, dns.Resolver.prototype, name, `dns.Resolver#${name}`);
    guardPromiseApi(state, dns.promises, name, `dns.promises.${name}`);
    guardPromiseApi(state, dns.promises.Resolver.prototype, name, `dns.promises.Resolver#${name}`);
  }
  // `import { lookup } from 'node:dns'` reads the ES module's own bindings: copy the wrappers there.
  syncBuiltinESMExports();
  return state;
}

/** Removes and returns what was blocked so far, in this process and in the children that report to it. */
export function takeViolations() {
  const state = globalThis[STATE];
  if (!state) return [];
  const found = state.violations.splice(0);
  if (state.childLog && fs.existsSync(state.childLog)) {
    const lines = fs.readFileSync(state.childLog, 'utf8').split('\n').filter(Boolean);
    fs.writeFileSync(state.childLog, '');
    found.push(...lines.map((line) => JSON.parse(line)));
  }
  return found;
}

// Loaded through NODE_OPTIONS in a child a test started: guard it, reporting to the parent's log.
if (process.env[CHILD_LOG_ENV]) installNetworkGuard();
