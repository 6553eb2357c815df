import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, openSqlite, type DatabaseHandle, type Dialect } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

const adminUrl = process.env.DATABASE_URL;
/**
 * The dialects every repository and route test runs on: SQLite always, PostgreSQL when DATABASE_URL
 * is set (scripts/run-tests.mjs prints one line when it is not).
 */
export function dialects(): Dialect[] {
  return adminUrl ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDatabase {
  handle: DatabaseHandle;
  dialect: Dialect;
  /** Where the data lives: the SQLite file's folder, or the PostgreSQL URL. */
  dataDir: string;
  databaseUrl: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, migrated, real database: a SQLite file in a temp folder or a new PostgreSQL database. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-test-'));
  if (dialect === 'sqlite') {
    const handle = openSqlite(join(dataDir, 'haven.sqlite'));
    await migrateToLatest(handle.db);
    return {
      handle,
      dialect,
      dataDir,
      databaseUrl: undefined,
      async drop() {
        await handle.close().catch(() => undefined);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (!adminUrl) throw new Error('DATABASE_URL is needed for PostgreSQL tests');
  const name = `haven_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const handle = openDatabase({ databaseUrl, dataDir });
  await migrateToLatest(handle.db);
  return {
    handle,
    dialect,
    dataDir,
    databaseUrl,
    async drop() {
      await handle.close().catch(() => undefined);
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
