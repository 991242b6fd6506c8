import type { Referent } from '../../src/open.js';

/** Tells the person at the terminal which encoder runs and whether the index had to be rebuilt. */
export function describeOpen(referent: Referent, out: NodeJS.WritableStream = process.stderr): void {
  const { encoder, indexReport } = referent;
  if (encoder.isDemo) out.write(`Using the ${encoder.displayName}: results only understand colours. Pull a real model with \`referent models pull\`.\n`);
  if (indexReport.source === 'rebuilt' && indexReport.count > 0) {
    out.write(`The image index was rebuilt from the catalogue (${indexReport.reason ?? 'no snapshot'}): ${indexReport.count} images.\n`);
  }
}
