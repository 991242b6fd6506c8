/**
 * Reading a catalogue behind the product's back, on either engine: a connection of its own, so the
 * reliability suite's checks never go through the code they check. The probes and checks are written
 * once against StorageReader; what differs per engine is only how its storage is read
 * (storage-sqlite.ts, storage-postgres.ts) and how a run is pointed at it (engines.ts).
 */

/** A table row as the engine gives it back: ids as numbers; other values as stored (SQLite) or as JSON (PostgreSQL). */
export type Row = Record<string, unknown>;

export interface AuditRow {
  id: number;
  user: string | null;
  platform: string | null;
  scope: string | null;
  collection_id: number | null;
  query: string;
}

/** A string looked for in the storage. */
export interface Needle {
  what: string;
  needle: string;
  /** Binary forms it is stored in besides the text's (a face descriptor's float32 bytes). */
  bytes?: readonly Buffer[];
  /** Rows that may hold it (the same bytes kept by a photo that is still live). */
  allow?: (table: string, row: Row) => boolean;
}

export interface StorageReader {
  /** The engine, for messages: "sqlite", "pglite", "postgres". */
  readonly engine: string;
  /** Every table the catalogue has, whatever made it (FTS shadow tables on SQLite, schema_version on PostgreSQL). */
  tables(): Promise<string[]>;
  /** Every row of a table, read whole, so a column added later is read too. */
  rows(table: string): Promise<Row[]>;
  /** Audit rows after `id`, oldest first. */
  auditSince(id: number): Promise<AuditRow[]>;
  lastAuditId(): Promise<number>;
  /** The owner of every stored vector: item, text, phrase or feedback (a verdict's query). */
  vectorOwners(): Promise<Array<{ kind: string; id: number }>>;
  /** What the engine's own word and identifier indexes still return for `word`, one line per index that does. */
  lexicalHits(word: string): Promise<string[]>;
  /**
   * Where the catalogue's raw bytes still hold a needle, one line each; `unread` says why they could
   * not be read at all (a server that does not let this user read its files).
   */
  rawTraces(needles: readonly Needle[]): Promise<{ lines: string[]; unread?: string }>;
  close(): Promise<void>;
}
