import { sql } from 'kysely';
import type { DbOrTrx, Dialect } from './database.js';

/**
 * Serialises transactions that must not run side by side (for example, first-run set-up).
 * PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing to do — it has a single writer,
 * and a transaction whose read went stale cannot commit its write (SQLITE_BUSY_SNAPSHOT).
 */
export async function serialise(trx: DbOrTrx, dialect: Dialect, key: string): Promise<void> {
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
}
