import type { Insertable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type { ConsentDecisionTable, ConsentPurposeTable, ConsentReviewTable } from '../../db/schema.js';

export async function purposes(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('consent_purposes').selectAll().where('school_id', '=', schoolId).orderBy('sort').execute();
}

export async function insertPurposes(db: DbOrTrx, rows: Insertable<ConsentPurposeTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('consent_purposes')
    .values(rows)
    .onConflict((oc) => oc.columns(['school_id', 'code']).doNothing())
    .execute();
}

export async function insertDecision(db: DbOrTrx, row: Insertable<ConsentDecisionTable>): Promise<void> {
  await db.insertInto('consent_decisions').values(row).execute();
}

/** Every decision for these pupils, oldest first. */
export async function decisionsFor(db: DbOrTrx, schoolId: string, pupilIds: string[]) {
  if (pupilIds.length === 0) return [];
  return db.selectFrom('consent_decisions').selectAll().where('school_id', '=', schoolId).where('pupil_id', 'in', pupilIds).orderBy('seq').execute();
}

/** The next sequence number for a pupil's decisions: decisions in the same instant still have an order. */
export async function nextSeq(db: DbOrTrx, schoolId: string, pupilId: string): Promise<number> {
  const row = await db
    .selectFrom('consent_decisions')
    .select((eb) => eb.fn.max<number>('seq').as('seq'))
    .where('school_id', '=', schoolId)
    .where('pupil_id', '=', pupilId)
    .executeTakeFirst();
  return Number(row?.seq ?? 0) + 1;
}

export async function openReviews(db: DbOrTrx, schoolId: string, pupilIds: string[]) {
  if (pupilIds.length === 0) return [];
  return db
    .selectFrom('consent_reviews')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('pupil_id', 'in', pupilIds)
    .where('resolved_at', 'is', null)
    .execute();
}

export async function reviewsOf(db: DbOrTrx, schoolId: string, pupilId: string) {
  return db.selectFrom('consent_reviews').selectAll().where('school_id', '=', schoolId).where('pupil_id', '=', pupilId).orderBy('flagged_at').execute();
}

export async function insertReview(db: DbOrTrx, row: Insertable<ConsentReviewTable>): Promise<void> {
  await db.insertInto('consent_reviews').values(row).execute();
}

export async function resolveReviews(
  db: DbOrTrx,
  schoolId: string,
  pupilId: string,
  changes: { resolved_at: string; resolved_by: string | null; resolution: string },
): Promise<number> {
  const result = await db
    .updateTable('consent_reviews')
    .set(changes)
    .where('school_id', '=', schoolId)
    .where('pupil_id', '=', pupilId)
    .where('resolved_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function retirePurpose(db: DbOrTrx, schoolId: string, id: string, at: string): Promise<number> {
  const result = await db
    .updateTable('consent_purposes')
    .set({ retired_at: at })
    .where('school_id', '=', schoolId)
    .where('id', '=', id)
    .where('retired_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
