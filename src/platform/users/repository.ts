import type { Insertable, Updateable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type { OneTimeTokenTable, SessionTable, UserTable } from '../../db/schema.js';

export async function findUserByEmail(db: DbOrTrx, email: string) {
  return db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
}

export async function findUser(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('users').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function findUserByPerson(db: DbOrTrx, schoolId: string, personId: string) {
  return db.selectFrom('users').selectAll().where('school_id', '=', schoolId).where('person_id', '=', personId).executeTakeFirst();
}

export async function listUsers(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('users').selectAll().where('school_id', '=', schoolId).orderBy('display_name').execute();
}

export async function insertUser(db: DbOrTrx, user: Insertable<UserTable>): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

export async function updateUser(db: DbOrTrx, schoolId: string, id: string, changes: Updateable<UserTable>): Promise<void> {
  await db.updateTable('users').set(changes).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function rolesOf(db: DbOrTrx, schoolId: string, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_roles').select('role').where('school_id', '=', schoolId).where('user_id', '=', userId).orderBy('role').execute();
  return rows.map((row) => row.role);
}

export async function rolesByUser(db: DbOrTrx, schoolId: string): Promise<Map<string, string[]>> {
  const rows = await db.selectFrom('user_roles').select(['user_id', 'role']).where('school_id', '=', schoolId).orderBy('role').execute();
  const map = new Map<string, string[]>();
  for (const row of rows) map.set(row.user_id, [...(map.get(row.user_id) ?? []), row.role]);
  return map;
}

export async function replaceRoles(db: DbOrTrx, schoolId: string, userId: string, roles: readonly string[]): Promise<void> {
  await db.deleteFrom('user_roles').where('school_id', '=', schoolId).where('user_id', '=', userId).execute();
  if (roles.length > 0) {
    await db
      .insertInto('user_roles')
      .values(roles.map((role) => ({ school_id: schoolId, user_id: userId, role })))
      .execute();
  }
}

export async function addPasswordHistory(db: DbOrTrx, row: { school_id: string; user_id: string; id: string; password_hash: string; created_at: string }) {
  await db.insertInto('password_history').values(row).execute();
}

export async function recentPasswordHashes(db: DbOrTrx, schoolId: string, userId: string, limit: number): Promise<string[]> {
  if (limit === 0) return [];
  const rows = await db
    .selectFrom('password_history')
    .select('password_hash')
    .where('school_id', '=', schoolId)
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => row.password_hash);
}

export async function replaceRecoveryCodes(db: DbOrTrx, schoolId: string, userId: string, hashes: string[]): Promise<void> {
  await db.deleteFrom('recovery_codes').where('school_id', '=', schoolId).where('user_id', '=', userId).execute();
  if (hashes.length > 0) {
    await db
      .insertInto('recovery_codes')
      .values(hashes.map((code_hash) => ({ school_id: schoolId, user_id: userId, code_hash, used_at: null })))
      .execute();
  }
}

/** Marks an unused recovery code used; true when one matched. */
export async function useRecoveryCode(db: DbOrTrx, schoolId: string, userId: string, codeHash: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: at })
    .where('school_id', '=', schoolId)
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(db: DbOrTrx, schoolId: string, userId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('school_id', '=', schoolId)
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// Sessions: the id is the SHA-256 of the cookie's secret part, so a database leak reveals no live cookie.

export async function insertSession(db: DbOrTrx, session: Insertable<SessionTable>): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

export async function findSession(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('sessions').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function updateSession(db: DbOrTrx, schoolId: string, id: string, changes: Updateable<SessionTable>): Promise<void> {
  await db.updateTable('sessions').set(changes).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function deleteSession(db: DbOrTrx, schoolId: string, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function deleteSessionsOfUser(db: DbOrTrx, schoolId: string, userId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('school_id', '=', schoolId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteOtherSessionsOfUser(db: DbOrTrx, schoolId: string, userId: string, keepSessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('school_id', '=', schoolId).where('user_id', '=', userId).where('id', '!=', keepSessionId).execute();
}

export async function insertOneTimeToken(db: DbOrTrx, token: Insertable<OneTimeTokenTable>): Promise<void> {
  await db.insertInto('one_time_tokens').values(token).execute();
}

export async function findOneTimeToken(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('one_time_tokens').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** Spends a token once: true only for the caller that marked it used. */
export async function spendOneTimeToken(db: DbOrTrx, schoolId: string, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('one_time_tokens')
    .set({ used_at: at })
    .where('school_id', '=', schoolId)
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function revokeOneTimeTokens(db: DbOrTrx, schoolId: string, userId: string, purpose: string, at: string): Promise<void> {
  await db
    .updateTable('one_time_tokens')
    .set({ used_at: at })
    .where('school_id', '=', schoolId)
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}

/** Records a used authenticator step; false when that step (or a later one) was already used. */
export async function claimTotpStep(db: DbOrTrx, schoolId: string, userId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('school_id', '=', schoolId)
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
