import type { Insertable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type { AgreementSignatureTable, AgreementTemplateTable, AgreementVersionTable, GuestAccessTable, ParentLinkTable } from '../../db/schema.js';

export async function templates(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('agreement_templates').selectAll().where('school_id', '=', schoolId).orderBy('audience').execute();
}

export async function insertTemplate(db: DbOrTrx, row: Insertable<AgreementTemplateTable>): Promise<void> {
  await db.insertInto('agreement_templates').values(row).execute();
}

export async function insertVersion(db: DbOrTrx, row: Insertable<AgreementVersionTable>): Promise<void> {
  await db.insertInto('agreement_versions').values(row).execute();
}

export async function versionsOf(db: DbOrTrx, schoolId: string, templateId: string) {
  return db
    .selectFrom('agreement_versions')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('template_id', '=', templateId)
    .orderBy('version', 'desc')
    .execute();
}

export async function versionsOfSchool(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('agreement_versions').selectAll().where('school_id', '=', schoolId).orderBy('version', 'desc').execute();
}

/** Only drafts can change: the status condition is part of the update. */
export async function updateDraft(db: DbOrTrx, schoolId: string, id: string, changes: { body: string; content_hash: string }): Promise<void> {
  await db.updateTable('agreement_versions').set(changes).where('school_id', '=', schoolId).where('id', '=', id).where('status', '=', 'draft').execute();
}

export async function supersedePublished(db: DbOrTrx, schoolId: string, templateId: string): Promise<void> {
  await db
    .updateTable('agreement_versions')
    .set({ status: 'superseded' })
    .where('school_id', '=', schoolId)
    .where('template_id', '=', templateId)
    .where('status', '=', 'published')
    .execute();
}

export async function publishDraft(db: DbOrTrx, schoolId: string, id: string, at: string, by: string): Promise<void> {
  await db
    .updateTable('agreement_versions')
    .set({ status: 'published', published_at: at, published_by: by })
    .where('school_id', '=', schoolId)
    .where('id', '=', id)
    .where('status', '=', 'draft')
    .execute();
}

export async function insertSignature(db: DbOrTrx, row: Insertable<AgreementSignatureTable>): Promise<void> {
  await db.insertInto('agreement_signatures').values(row).execute();
}

/** Signatures for these people, newest version first. */
export async function signaturesOf(db: DbOrTrx, schoolId: string, templateId: string, personIds: string[]) {
  if (personIds.length === 0) return [];
  return db
    .selectFrom('agreement_signatures')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('template_id', '=', templateId)
    .where('person_id', 'in', personIds)
    .orderBy('version', 'desc')
    .orderBy('signed_at', 'desc')
    .execute();
}

export async function insertParentLink(db: DbOrTrx, row: Insertable<ParentLinkTable>): Promise<void> {
  await db.insertInto('parent_links').values(row).execute();
}

export async function findParentLink(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('parent_links').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** Spends a link once: true only for the caller that marked it used. */
export async function spendParentLink(db: DbOrTrx, schoolId: string, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('parent_links')
    .set({ used_at: at })
    .where('school_id', '=', schoolId)
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function signaturesOfPerson(db: DbOrTrx, schoolId: string, personId: string) {
  return db
    .selectFrom('agreement_signatures')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('person_id', '=', personId)
    .orderBy('signed_at', 'desc')
    .execute();
}

export async function insertGuestAccess(db: DbOrTrx, row: Insertable<GuestAccessTable>): Promise<void> {
  await db.insertInto('guest_access').values(row).execute();
}

export async function guestAccess(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('guest_access').selectAll().where('school_id', '=', schoolId).orderBy('expires_on', 'desc').execute();
}

/** Ends any unused earlier links for the same parent and pupil, so only the newest letter works. */
export async function revokeParentLinks(db: DbOrTrx, schoolId: string, parentId: string, pupilId: string, purpose: string, at: string): Promise<void> {
  await db
    .updateTable('parent_links')
    .set({ used_at: at })
    .where('school_id', '=', schoolId)
    .where('parent_id', '=', parentId)
    .where('pupil_id', '=', pupilId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}

export async function setRenewal(db: DbOrTrx, schoolId: string, templateId: string, months: number | null): Promise<void> {
  await db.updateTable('agreement_templates').set({ renewal_months: months }).where('school_id', '=', schoolId).where('id', '=', templateId).execute();
}

/** Signatures of every person for these templates, newest version first (the register reads them all at once). */
export async function signaturesOfTemplates(db: DbOrTrx, schoolId: string, templateIds: string[]) {
  if (templateIds.length === 0) return [];
  return db
    .selectFrom('agreement_signatures')
    .select(['person_id', 'template_id', 'version_id', 'version', 'signed_at', 'method'])
    .where('school_id', '=', schoolId)
    .where('template_id', 'in', templateIds)
    .orderBy('version', 'desc')
    .orderBy('signed_at', 'desc')
    .execute();
}

export async function provisioning(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('access_provisioning').selectAll().where('school_id', '=', schoolId).execute();
}

export async function markProvisioned(db: DbOrTrx, schoolId: string, personId: string, at: string, by: string | null): Promise<void> {
  await db
    .insertInto('access_provisioning')
    .values({ school_id: schoolId, person_id: personId, granted_at: at, granted_by: by, removed_at: null, removed_by: null })
    .onConflict((conflict) => conflict.columns(['school_id', 'person_id']).doUpdateSet({ granted_at: at, granted_by: by, removed_at: null, removed_by: null }))
    .execute();
}

export async function markAccessRemoved(db: DbOrTrx, schoolId: string, personId: string, at: string, by: string | null): Promise<void> {
  await db
    .updateTable('access_provisioning')
    .set({ removed_at: at, removed_by: by })
    .where('school_id', '=', schoolId)
    .where('person_id', '=', personId)
    .where('removed_at', 'is', null)
    .execute();
}

export async function revokeGuestAccessOf(db: DbOrTrx, schoolId: string, personId: string, at: string): Promise<void> {
  await db
    .updateTable('guest_access')
    .set({ revoked_at: at })
    .where('school_id', '=', schoolId)
    .where('person_id', '=', personId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function reminders(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('agreement_reminders').selectAll().where('school_id', '=', schoolId).execute();
}

export async function recordReminder(db: DbOrTrx, schoolId: string, personId: string, audience: string, at: string): Promise<void> {
  await db
    .insertInto('agreement_reminders')
    .values({ school_id: schoolId, person_id: personId, audience, reminded_at: at, count: 1 })
    .onConflict((conflict) =>
      conflict.columns(['school_id', 'person_id', 'audience']).doUpdateSet((eb) => ({ reminded_at: at, count: eb('agreement_reminders.count', '+', 1) })),
    )
    .execute();
}
