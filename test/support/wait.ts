/** Waiting for something another process or server does, without timing anything. */

/**
 * Polls `probe` until it holds; false once `timeoutMs` passed (never throws, never hangs). The
 * bound only stops a broken run from waiting forever: no test asserts how long anything took.
 */
export async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}
