import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
/** A database handle or an open transaction: repositories accept either. */
export type DbOrTrx = Kysely<Database> | Transaction<Database>;

export interface DatabaseHandle {
  db: Db;
  dialect: Dialect;
  /** The SQLite file (for backups); undefined on PostgreSQL. */
  sqliteFile: string | undefined;
  /**
   * The SQLite connection itself, for the few bulk writes (web-activity ingest) where a prepared
   * statement run in a loop beats building one query per batch; it is the connection Kysely uses, so
   * these writes join an open Kysely transaction. Undefined on PostgreSQL.
   */
  sqlite: SQLite.Database | undefined;
  close(): Promise<void>;
}

// COUNT(*) and BIGINT come back from pg as strings; Haven's counts fit easily in a double.
pg.types.setTypeParser(20, (value: string) => Number(value));

export function openDatabase(options: { databaseUrl?: string | undefined; dataDir: string; onIdleError?: (error: Error) => void }): DatabaseHandle {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle connection that the server drops (a restart, a failover) must not crash Haven:
    // the pool discards it and connects afresh on the next query.
    pool.on('error', (error) => {
      options.onIdleError?.(error);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', sqliteFile: undefined, sqlite: undefined, close: () => db.destroy() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, 'haven.sqlite');
  return openSqlite(file);
}

export function openSqlite(file: string): DatabaseHandle {
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // 64 MiB of page cache (the default is 2 MiB): web-activity ingest upserts daily counts across a large index.
  sqlite.pragma('cache_size = -65536');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', sqliteFile: file, sqlite, close: () => db.destroy() };
}
