/**
 * The one wait helper for tests that watch real processes, sockets and files: polls a condition
 * until it holds, and fails naming what it waited for. The timeout is a safety net for a hung
 * test, never a performance bound: pick one that a loaded 2-core machine meets with room to spare.
 */

/** Waits for `predicate` to hold, polling every `intervalMs`; rejects naming `what` after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
