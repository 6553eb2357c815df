import type { Insertable, Updateable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type {
  FilterCategoryTable,
  FilterChangeLogTable,
  FilterCheckTable,
  FilterListTable,
  FilterListVersionTable,
  FilterNetworkTable,
  FilterPolicyTable,
  FilterRequestTable,
} from '../../db/schema.js';

export async function categories(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('filter_categories').selectAll().where('school_id', '=', schoolId).orderBy('sort').execute();
}

export async function insertCategories(db: DbOrTrx, rows: Insertable<FilterCategoryTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('filter_categories')
    .values(rows)
    .onConflict((conflict) => conflict.columns(['school_id', 'code']).doNothing())
    .execute();
}

export async function lists(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('filter_lists').selectAll().where('school_id', '=', schoolId).where('retired_at', 'is', null).orderBy('name').execute();
}

export async function findList(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('filter_lists').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function insertList(db: DbOrTrx, row: Insertable<FilterListTable>): Promise<void> {
  await db.insertInto('filter_lists').values(row).execute();
}

export async function updateList(db: DbOrTrx, schoolId: string, id: string, changes: Updateable<FilterListTable>): Promise<void> {
  await db.updateTable('filter_lists').set(changes).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function insertListVersion(db: DbOrTrx, row: Insertable<FilterListVersionTable>): Promise<void> {
  await db.insertInto('filter_list_versions').values(row).execute();
}

export async function listVersion(db: DbOrTrx, schoolId: string, listId: string, version: number) {
  return db
    .selectFrom('filter_list_versions')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('list_id', '=', listId)
    .where('version', '=', version)
    .executeTakeFirst();
}

export async function listVersions(db: DbOrTrx, schoolId: string, listId: string) {
  return db.selectFrom('filter_list_versions').selectAll().where('school_id', '=', schoolId).where('list_id', '=', listId).orderBy('version', 'desc').execute();
}

export async function policies(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('filter_policies').selectAll().where('school_id', '=', schoolId).orderBy('group_code').execute();
}

export async function insertPolicy(db: DbOrTrx, row: Insertable<FilterPolicyTable>): Promise<void> {
  await db
    .insertInto('filter_policies')
    .values(row)
    .onConflict((conflict) => conflict.columns(['school_id', 'group_code']).doNothing())
    .execute();
}

export async function updatePolicy(db: DbOrTrx, schoolId: string, groupCode: string, changes: Updateable<FilterPolicyTable>): Promise<void> {
  await db.updateTable('filter_policies').set(changes).where('school_id', '=', schoolId).where('group_code', '=', groupCode).execute();
}

export async function networks(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('filter_networks').selectAll().where('school_id', '=', schoolId).orderBy('cidr').execute();
}

export async function insertNetwork(db: DbOrTrx, row: Insertable<FilterNetworkTable>): Promise<void> {
  await db.insertInto('filter_networks').values(row).execute();
}

export async function deleteNetwork(db: DbOrTrx, schoolId: string, id: string): Promise<number> {
  const result = await db.deleteFrom('filter_networks').where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function requests(db: DbOrTrx, schoolId: string, filter: { status?: string; requestedBy?: string } = {}) {
  let query = db.selectFrom('filter_requests').selectAll().where('school_id', '=', schoolId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.requestedBy) query = query.where('requested_by', '=', filter.requestedBy);
  return query.orderBy('requested_at', 'desc').limit(500).execute();
}

export async function findRequest(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('filter_requests').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function insertRequest(db: DbOrTrx, row: Insertable<FilterRequestTable>): Promise<void> {
  await db.insertInto('filter_requests').values(row).execute();
}

/** Moves a request on only from the state the caller saw: false when someone else got there first. */
export async function updateRequest(db: DbOrTrx, schoolId: string, id: string, fromStatus: string, changes: Updateable<FilterRequestTable>): Promise<boolean> {
  const result = await db
    .updateTable('filter_requests')
    .set(changes)
    .where('school_id', '=', schoolId)
    .where('id', '=', id)
    .where('status', '=', fromStatus)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Approved exceptions that have not yet ended (current and future), for the snapshot. */
export async function liveExceptions(db: DbOrTrx, schoolId: string, now: string) {
  return db.selectFrom('filter_requests').selectAll().where('school_id', '=', schoolId).where('status', '=', 'approved').where('ends_at', '>', now).execute();
}

/** Approved exceptions whose period is over and not yet marked expired. */
export async function endedExceptions(db: DbOrTrx, schoolId: string, now: string) {
  return db.selectFrom('filter_requests').selectAll().where('school_id', '=', schoolId).where('status', '=', 'approved').where('ends_at', '<=', now).execute();
}

export async function countRequests(db: DbOrTrx, schoolId: string): Promise<number> {
  const row = await db
    .selectFrom('filter_requests')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('school_id', '=', schoolId)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

export async function lastLogSeq(db: DbOrTrx, schoolId: string): Promise<number> {
  const row = await db
    .selectFrom('filter_change_log')
    .select((eb) => eb.fn.max<number>('seq').as('seq'))
    .where('school_id', '=', schoolId)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

export async function insertLog(db: DbOrTrx, row: Insertable<FilterChangeLogTable>): Promise<void> {
  await db.insertInto('filter_change_log').values(row).execute();
}

export async function changeLog(db: DbOrTrx, schoolId: string, limit: number, offset: number) {
  return db.selectFrom('filter_change_log').selectAll().where('school_id', '=', schoolId).orderBy('seq', 'desc').limit(limit).offset(offset).execute();
}

export async function peopleWithUsernames(db: DbOrTrx, schoolId: string) {
  return db
    .selectFrom('people')
    .select(['id', 'network_username'])
    .where('school_id', '=', schoolId)
    .where('status', '=', 'current')
    .where('network_username', 'is not', null)
    .execute();
}

export async function insertCheck(db: DbOrTrx, row: Insertable<FilterCheckTable>): Promise<void> {
  await db.insertInto('filter_checks').values(row).execute();
}

export async function checks(db: DbOrTrx, schoolId: string, limit = 200) {
  return db.selectFrom('filter_checks').selectAll().where('school_id', '=', schoolId).orderBy('run_at', 'desc').limit(limit).execute();
}

export async function findCheck(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('filter_checks').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function setCheckAction(db: DbOrTrx, schoolId: string, id: string, action: string): Promise<number> {
  const result = await db.updateTable('filter_checks').set({ action_taken: action }).where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function updateListVersionReport(db: DbOrTrx, schoolId: string, listId: string, version: number, report: string): Promise<void> {
  await db
    .updateTable('filter_list_versions')
    .set({ report })
    .where('school_id', '=', schoolId)
    .where('list_id', '=', listId)
    .where('version', '=', version)
    .execute();
}
