import SQLite from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config.js';

/**
 * A consistent online copy. SQLite: the backup API copies a snapshot page by page while the
 * server keeps writing. PostgreSQL: pg_dump is the right tool, so we say how to run it.
 */
export async function backupDatabase(config: Config, out?: string): Promise<string> {
  if (config.databaseUrl) {
    return [
      'Haven is using PostgreSQL: back it up with pg_dump, which takes a consistent snapshot while Haven runs:',
      '  pg_dump --format=custom --file=haven-$(date +%Y%m%d-%H%M).dump "$DATABASE_URL"',
      'Restore with: pg_restore --clean --dbname "$DATABASE_URL" haven-YYYYMMDD-HHMM.dump',
    ].join('\n');
  }
  const source = join(config.dataDir, 'haven.sqlite');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = resolve(out ?? join(config.dataDir, 'backups', `haven-${stamp}.sqlite`));
  mkdirSync(dirname(target), { recursive: true });
  const database = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    await database.backup(target);
  } finally {
    database.close();
  }
  const check = new SQLite(target, { readonly: true });
  try {
    const result = check.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new Error(`The backup failed its integrity check: ${String(result)}`);
  } finally {
    check.close();
  }
  return `Backup written to ${target} (integrity check ok).`;
}
