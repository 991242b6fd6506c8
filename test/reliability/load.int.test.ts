/**
 * The short version of `npm run load`: the real server and a real `referent ingest` as child
 * processes on one data folder, 8 concurrent clients, 120 requests. Every request is answered as it
 * should be and nothing acknowledged is lost. No timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { runLoad } from './load-driver.js';

describe('the chat under concurrent clients while an ingest runs', () => {
  it('answers every request and loses nothing', async () => {
    const tally = await runLoad({ clients: 8, maxRequests: 120, ingestImages: 40, seed: 7 });
    expect(tally.failures).toEqual([]);
    expect(tally.load?.errors).toBe(0);
    expect(tally.itemsLost).toBe(0);
    expect(tally.load?.requests).toBe(120);
  }, 120_000);
});
