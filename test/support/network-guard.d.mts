/** Types for network-guard.mjs (plain JavaScript so child processes can load it without tsx). */
export const BLOCKED_CODE: 'ERR_TEST_NETWORK_BLOCKED';
export const CHILD_LOG_ENV: 'REFERENT_NET_GUARD_LOG';

export interface NetworkViolation {
  host: string;
  /** `connection`, `dns.lookup`, `dns.promises.resolve4`, … */
  via: string;
  /** The process that tried: a child's pid when it came from a child's log. */
  pid: number;
}

export interface NetworkGuardState {
  violations: NetworkViolation[];
  /** Where this process's guarded children append what they blocked (a parent sets it). */
  childLog: string | undefined;
}

export function isLoopbackHost(host: unknown): boolean;
export function installNetworkGuard(): NetworkGuardState;
export function takeViolations(): NetworkViolation[];
