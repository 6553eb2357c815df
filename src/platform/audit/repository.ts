import type { Insertable } from 'kysely';
import type { DbOrTrx, Dialect } from '../../db/database.js';
import type { AuditEventTable } from '../../db/schema.js';

export const genesisHash = '0'.repeat(64);

/** Locks (PostgreSQL) or write-locks (SQLite, by writing first) the school's chain head. */
export async function lockHead(trx: DbOrTrx, dialect: Dialect, schoolId: string): Promise<{ seq: number; hash: string }> {
  await trx
    .insertInto('audit_heads')
    .values({ school_id: schoolId, seq: 0, hash: genesisHash })
    .onConflict((oc) => oc.column('school_id').doNothing())
    .execute();
  let query = trx.selectFrom('audit_heads').select(['seq', 'hash']).where('school_id', '=', schoolId);
  if (dialect === 'postgres') query = query.forUpdate();
  return query.executeTakeFirstOrThrow();
}

export async function insertEvent(trx: DbOrTrx, event: Insertable<AuditEventTable>): Promise<void> {
  await trx.insertInto('audit_events').values(event).execute();
  await trx.updateTable('audit_heads').set({ seq: event.seq, hash: event.hash }).where('school_id', '=', event.school_id).execute();
}

export interface AuditFilter {
  actorUserId?: string | undefined;
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export async function listEvents(db: DbOrTrx, schoolId: string, filter: AuditFilter, limit: number, offset: number) {
  let query = db.selectFrom('audit_events').selectAll().where('school_id', '=', schoolId);
  if (filter.actorUserId) query = query.where('actor_user_id', '=', filter.actorUserId);
  if (filter.action) query = query.where('action', 'like', `${filter.action}%`);
  if (filter.from) query = query.where('at', '>=', filter.from);
  if (filter.to) query = query.where('at', '<', filter.to);
  return query.orderBy('seq', 'desc').limit(limit).offset(offset).execute();
}

export async function listActions(db: DbOrTrx, schoolId: string): Promise<string[]> {
  const rows = await db.selectFrom('audit_events').select('action').distinct().where('school_id', '=', schoolId).orderBy('action').execute();
  return rows.map((row) => row.action);
}

export async function* eventsInChainOrder(db: DbOrTrx, batchSize = 1000): AsyncGenerator<AuditEventTable> {
  let afterSchool = '';
  let afterSeq = -1;
  for (;;) {
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where((eb) => eb.or([eb('school_id', '>', afterSchool), eb.and([eb('school_id', '=', afterSchool), eb('seq', '>', afterSeq)])]))
      .orderBy('school_id')
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) return;
    yield* rows;
    const last = rows[rows.length - 1]!;
    afterSchool = last.school_id;
    afterSeq = last.seq;
  }
}

export async function listHeads(db: DbOrTrx) {
  return db.selectFrom('audit_heads').selectAll().execute();
}
