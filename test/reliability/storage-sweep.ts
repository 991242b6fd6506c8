/**
 * Looking for a string everywhere a catalogue could keep it: every column of every table the engine
 * lists, read through a StorageReader, and raw bytes (a file, a relation's pages).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Needle, Row, StorageReader } from './storage.js';

/** The forms a string is stored in: as written, lower and upper case (index terms), and, for a sha256, its 32 raw bytes. */
export function forms(needle: string, extra: readonly Buffer[] = []): Buffer[] {
  const out = new Set([needle, needle.toLowerCase(), needle.toUpperCase()]);
  const bytes = [...out].map((s) => Buffer.from(s, 'utf8'));
  if (/^[0-9a-f]{64}$/.test(needle)) bytes.push(Buffer.from(needle, 'hex'));
  return [...bytes, ...extra];
}

/** Whether a value holds the needle: text in any case, bytes in any form, anything else (JSON from PostgreSQL) as its JSON text. */
function holds(value: unknown, needle: string, bytes: readonly Buffer[]): boolean {
  if (value === null || value === undefined) return false;
  if (Buffer.isBuffer(value)) return bytes.some((b) => value.includes(b));
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.toLowerCase().includes(needle.toLowerCase());
}

const rowName = (row: Row, i: number) => (row.__row !== undefined ? `rowid ${String(row.__row)}` : row.id !== undefined ? `id ${String(row.id)}` : `row ${i + 1}`);

/** Every table and column holding a needle, one line per table, column and needle, naming the rows. */
export async function sweepStorage(reader: StorageReader, needles: readonly Needle[]): Promise<Array<{ what: string; line: string }>> {
  const out: Array<{ what: string; line: string }> = [];
  const prepared = needles.map((n) => ({ ...n, bytes: forms(n.needle, n.bytes) }));
  for (const table of await reader.tables()) {
    const rows = await reader.rows(table);
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => c !== '__row');
    for (const n of prepared) {
      for (const column of columns) {
        const hits = rows.flatMap((row, i) => (holds(row[column], n.needle, n.bytes) && !n.allow?.(table, row) ? [rowName(row, i)] : []));
        if (hits.length === 0) continue;
        out.push({ what: n.what, line: `${table}.${column} still holds the ${n.what} (${hits.length} row${hits.length === 1 ? '' : 's'}: ${hits.slice(0, 5).join(', ')}${hits.length > 5 ? ', …' : ''})` });
      }
    }
  }
  return out;
}

/** Whether raw bytes hold a needle in any of its forms: the offset of the first, or -1. */
export function offsetIn(data: Buffer, needle: Needle): number {
  const at = forms(needle.needle, needle.bytes).map((b) => data.indexOf(b)).filter((i) => i >= 0);
  return at.length ? Math.min(...at) : -1;
}

/** Files whose raw bytes still hold a needle, one line per file and needle. */
export function sweepFiles(files: readonly string[], needles: readonly Needle[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const data = fs.readFileSync(file);
    for (const n of needles) {
      const at = offsetIn(data, n);
      if (at >= 0) out.push(`${path.basename(file)} still holds the ${n.what} in its bytes (offset ${at})`);
    }
  }
  return out;
}
