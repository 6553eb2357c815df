import { sql, type Insertable, type Updateable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type { GroupStaffTable, GroupTable, PeopleImportTable, PersonTable, RoleHolderTable } from '../../db/schema.js';

export async function insertPerson(db: DbOrTrx, row: Insertable<PersonTable>): Promise<void> {
  await db.insertInto('people').values(row).execute();
}

export async function updatePerson(db: DbOrTrx, schoolId: string, id: string, changes: Updateable<PersonTable>): Promise<void> {
  await db.updateTable('people').set(changes).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function findPerson(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export interface PeopleFilter {
  kind?: string | undefined;
  status?: string | undefined;
  search?: string | undefined;
  groupId?: string | undefined;
}

export async function listPeople(db: DbOrTrx, schoolId: string, filter: PeopleFilter, limit: number, offset: number) {
  let query = db.selectFrom('people').selectAll('people').where('people.school_id', '=', schoolId);
  if (filter.kind) query = query.where('people.kind', '=', filter.kind);
  if (filter.status) query = query.where('people.status', '=', filter.status);
  if (filter.groupId) {
    const groupId = filter.groupId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_members')
          .select('group_members.person_id')
          .whereRef('group_members.school_id', '=', 'people.school_id')
          .whereRef('group_members.person_id', '=', 'people.id')
          .where('group_members.group_id', '=', groupId),
      ),
    );
  }
  if (filter.search) {
    const term = `%${filter.search.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    // ESCAPE is explicit: SQLite's LIKE has no default escape character.
    const matches = (column: 'legal_first_name' | 'legal_last_name' | 'preferred_first_name' | 'mis_id') =>
      sql<boolean>`lower(${sql.ref(`people.${column}`)}) like ${term} escape '\\'`;
    query = query.where((eb) => eb.or([matches('legal_first_name'), matches('legal_last_name'), matches('preferred_first_name'), matches('mis_id')]));
  }
  const total = await query
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const rows = await query.orderBy('people.legal_last_name').orderBy('people.legal_first_name').orderBy('people.id').limit(limit).offset(offset).execute();
  return { rows, total: Number(total.n) };
}

export async function peopleByIds(db: DbOrTrx, schoolId: string, ids: string[]) {
  return db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('id', 'in', ids).execute();
}

export async function idsInClass(db: DbOrTrx, schoolId: string, className: string): Promise<string[]> {
  const rows = await db.selectFrom('people').select('id').where('school_id', '=', schoolId).where('class_name', '=', className).execute();
  return rows.map((row) => row.id);
}

export async function peopleByMisId(db: DbOrTrx, schoolId: string, kind: string) {
  return db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('kind', '=', kind).where('mis_id', 'is not', null).execute();
}

export async function findGroupByCode(db: DbOrTrx, schoolId: string, kind: string, code: string) {
  return db.selectFrom('groups').selectAll().where('school_id', '=', schoolId).where('kind', '=', kind).where('code', '=', code).executeTakeFirst();
}

export async function insertGroup(db: DbOrTrx, row: Insertable<GroupTable>): Promise<void> {
  await db.insertInto('groups').values(row).execute();
}

export async function findGroup(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('groups').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function listGroupsWithCounts(db: DbOrTrx, schoolId: string) {
  return db
    .selectFrom('groups')
    .leftJoin('group_members', (join) => join.onRef('group_members.school_id', '=', 'groups.school_id').onRef('group_members.group_id', '=', 'groups.id'))
    .select(['groups.id', 'groups.kind', 'groups.code', 'groups.name', 'groups.year_group'])
    .select((eb) => eb.fn.count<number>('group_members.person_id').as('members'))
    .where('groups.school_id', '=', schoolId)
    .groupBy(['groups.id', 'groups.kind', 'groups.code', 'groups.name', 'groups.year_group'])
    .execute();
}

export async function replaceMemberships(db: DbOrTrx, schoolId: string, personId: string, groupIds: string[]): Promise<void> {
  await db.deleteFrom('group_members').where('school_id', '=', schoolId).where('person_id', '=', personId).execute();
  if (groupIds.length > 0) {
    await db
      .insertInto('group_members')
      .values(groupIds.map((groupId) => ({ school_id: schoolId, group_id: groupId, person_id: personId })))
      .execute();
  }
}

export async function groupsOfPerson(db: DbOrTrx, schoolId: string, personId: string) {
  return db
    .selectFrom('group_members')
    .innerJoin('groups', (join) => join.onRef('groups.school_id', '=', 'group_members.school_id').onRef('groups.id', '=', 'group_members.group_id'))
    .select(['groups.id', 'groups.kind', 'groups.code', 'groups.name'])
    .where('group_members.school_id', '=', schoolId)
    .where('group_members.person_id', '=', personId)
    .execute();
}

export async function upsertGuardianship(
  db: DbOrTrx,
  row: { school_id: string; parent_id: string; pupil_id: string; relationship: string; parental_responsibility: number; priority: number },
) {
  await db
    .insertInto('guardianships')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['school_id', 'parent_id', 'pupil_id'])
        .doUpdateSet({ relationship: row.relationship, parental_responsibility: row.parental_responsibility, priority: row.priority }),
    )
    .execute();
}

export async function guardiansOf(db: DbOrTrx, schoolId: string, pupilId: string) {
  return db
    .selectFrom('guardianships')
    .innerJoin('people', (join) => join.onRef('people.school_id', '=', 'guardianships.school_id').onRef('people.id', '=', 'guardianships.parent_id'))
    .selectAll('people')
    .select(['guardianships.relationship', 'guardianships.parental_responsibility', 'guardianships.priority'])
    .where('guardianships.school_id', '=', schoolId)
    .where('guardianships.pupil_id', '=', pupilId)
    .orderBy('guardianships.priority')
    .execute();
}

export async function childrenOf(db: DbOrTrx, schoolId: string, parentId: string) {
  return db
    .selectFrom('guardianships')
    .innerJoin('people', (join) => join.onRef('people.school_id', '=', 'guardianships.school_id').onRef('people.id', '=', 'guardianships.pupil_id'))
    .selectAll('people')
    .select(['guardianships.relationship', 'guardianships.parental_responsibility', 'guardianships.priority'])
    .where('guardianships.school_id', '=', schoolId)
    .where('guardianships.parent_id', '=', parentId)
    .execute();
}

export async function insertRoleHolder(db: DbOrTrx, row: Insertable<RoleHolderTable>): Promise<void> {
  await db.insertInto('role_holders').values(row).execute();
}

export async function listRoleHolders(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('role_holders').selectAll().where('school_id', '=', schoolId).orderBy('created_at').execute();
}

export async function deleteRoleHolder(db: DbOrTrx, schoolId: string, id: string): Promise<number> {
  const result = await db.deleteFrom('role_holders').where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function insertImport(db: DbOrTrx, row: Insertable<PeopleImportTable>) {
  await db.insertInto('people_imports').values(row).execute();
}

export async function findImport(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('people_imports').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function updateImport(db: DbOrTrx, schoolId: string, id: string, changes: { mapping?: string; status?: string; summary?: string; csv?: string }) {
  await db.updateTable('people_imports').set(changes).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function staffOfGroup(db: DbOrTrx, schoolId: string, groupId: string) {
  return db
    .selectFrom('group_staff')
    .innerJoin('people', (join) => join.onRef('people.school_id', '=', 'group_staff.school_id').onRef('people.id', '=', 'group_staff.person_id'))
    .selectAll('people')
    .where('group_staff.school_id', '=', schoolId)
    .where('group_staff.group_id', '=', groupId)
    .orderBy('people.legal_last_name')
    .execute();
}

export async function classesTaughtBy(db: DbOrTrx, schoolId: string, personId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('group_staff')
    .innerJoin('groups', (join) => join.onRef('groups.school_id', '=', 'group_staff.school_id').onRef('groups.id', '=', 'group_staff.group_id'))
    .select('groups.code')
    .where('group_staff.school_id', '=', schoolId)
    .where('group_staff.person_id', '=', personId)
    .where('groups.kind', '=', 'class')
    .execute();
  return rows.map((row) => row.code).sort((a, b) => a.localeCompare(b, 'en-GB', { numeric: true }));
}

export async function insertGroupStaff(db: DbOrTrx, row: Insertable<GroupStaffTable>): Promise<void> {
  await db
    .insertInto('group_staff')
    .values(row)
    .onConflict((conflict) => conflict.columns(['school_id', 'group_id', 'person_id']).doNothing())
    .execute();
}

export async function deleteGroupStaff(db: DbOrTrx, schoolId: string, groupId: string, personId: string): Promise<number> {
  const result = await db
    .deleteFrom('group_staff')
    .where('school_id', '=', schoolId)
    .where('group_id', '=', groupId)
    .where('person_id', '=', personId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function networkAccounts(db: DbOrTrx, schoolId: string) {
  return db
    .selectFrom('people')
    .select(['id', 'kind', 'network_username'])
    .where('school_id', '=', schoolId)
    .where('status', '=', 'current')
    .where('network_username', 'is not', null)
    .execute();
}
