/**
 * The names this server answers to. Against DNS rebinding: a page on evil.example whose name is
 * made to resolve to 127.0.0.1 is, to the browser, same-origin with this server and may read every
 * answer (searches, images) of a server without a token. What the page cannot change is the Host
 * header, which carries its own name; so only requests that name this server are served.
 */
import os from 'node:os';
import type { Config } from '../../src/config.js';

/** Addresses that mean "every interface": the server is then reached by this machine's own names and addresses. */
const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '[::]']);

/** "[::1]" for an IPv6 address, lowercased, without a DNS root dot: the form hostnameOf gives. */
function normalise(name: string): string {
  const lower = name.toLowerCase().replace(/\.$/, '');
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/**
 * Loopback names, HOST, and REFERENT_PUBLIC_URL's host. Bound to every interface, also the machine's
 * name and interface addresses as they are at start; any other name needs REFERENT_PUBLIC_URL.
 */
export function allowedHostnames(config: Pick<Config, 'host'> & { chat: Pick<Config['chat'], 'publicUrl'> }): ReadonlySet<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', normalise(config.host)]);
  if (config.chat.publicUrl) names.add(normalise(new URL(config.chat.publicUrl).hostname));
  if (WILDCARDS.has(config.host)) {
    names.add(normalise(os.hostname()));
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const a of addresses ?? []) names.add(normalise(a.address.replace(/%.*$/, '')));
    }
  }
  return names;
}

/**
 * The host name of a Host header ("example.com:8080" → "example.com", "[::1]:3000" → "[::1]"), or
 * null when it is absent or not a plain host[:port] (no user info, paths or spaces slip through).
 */
export function hostnameOf(header: string | undefined): string | null {
  const match = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i.exec(header ?? '');
  return match ? normalise(match[1]!) : null;
}
