import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import type { PersonTable } from '../../db/schema.js';
import { isoNow, newId } from '../../db/helpers.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import type { UserService } from '../../platform/users/service.js';
import {
  autoMapping,
  CsvFileError,
  fieldsFor,
  parseFile,
  planImport,
  readCsv,
  type ColumnMapping,
  type ImportKind,
  type ImportPlan,
  type ImportProblem,
} from './import.js';
import * as repository from './repository.js';
import {
  keyStageOf,
  keyStages,
  personInputSchema,
  postLabels,
  posts,
  yearLabel,
  type KeyStage,
  type PersonInput,
  type PersonKind,
  type Post,
} from './schema.js';

export interface Person {
  id: string;
  kind: PersonKind;
  legalFirstName: string;
  legalLastName: string;
  preferredFirstName: string | null;
  preferredLastName: string | null;
  displayName: string;
  dateOfBirth: string | null;
  gender: string | null;
  yearGroup: number | null;
  yearLabel: string;
  keyStage: KeyStage | null;
  className: string | null;
  send: boolean;
  eal: boolean;
  lookedAfter: boolean;
  misId: string | null;
  jobTitle: string | null;
  email: string | null;
  phone: string | null;
  organisation: string | null;
  networkUsername: string | null;
  startDate: string | null;
  leaveDate: string | null;
  status: 'current' | 'left';
}

export function toPerson(row: PersonTable): Person {
  const first = row.preferred_first_name ?? row.legal_first_name;
  const last = row.preferred_last_name ?? row.legal_last_name;
  return {
    id: row.id,
    kind: row.kind as PersonKind,
    legalFirstName: row.legal_first_name,
    legalLastName: row.legal_last_name,
    preferredFirstName: row.preferred_first_name,
    preferredLastName: row.preferred_last_name,
    displayName: `${first} ${last}`.trim(),
    dateOfBirth: row.date_of_birth,
    gender: row.gender,
    yearGroup: row.year_group,
    yearLabel: yearLabel(row.year_group),
    keyStage: row.year_group === null ? null : keyStageOf(row.year_group),
    className: row.class_name,
    send: row.send === 1,
    eal: row.eal === 1,
    lookedAfter: row.looked_after === 1,
    misId: row.mis_id,
    jobTitle: row.job_title,
    email: row.email,
    phone: row.phone,
    organisation: row.organisation,
    networkUsername: row.network_username ?? null,
    startDate: row.start_date,
    leaveDate: row.leave_date,
    status: row.status === 'left' ? 'left' : 'current',
  };
}

/**
 * Whether a person is cleared for ICT access and which filtering group applies; computed by the
 * access register (agreements) and offered here so other features (filtering) ask the people service.
 */
export interface Clearance {
  cleared: boolean;
  reason: string;
  since: string | null;
  groupKind: 'all_staff' | 'governors' | 'key_stage' | 'guests' | 'uncleared';
  groupCode: string;
}

export type ClearanceProvider = (schoolId: string, personIds: readonly string[]) => Promise<Map<string, Clearance>>;

export type GroupKind = 'class' | 'year_group' | 'key_stage' | 'all_staff' | 'governors' | 'guests';

export const groupKindLabels: Record<GroupKind, string> = {
  class: 'Class',
  year_group: 'Year group',
  key_stage: 'Key stage',
  all_staff: 'All staff',
  governors: 'Governors',
  guests: 'Guests',
};

const keyStageNames: Record<KeyStage, string> = {
  EYFS: 'Early years (EYFS)',
  KS1: 'Key stage 1',
  KS2: 'Key stage 2',
  KS3: 'Key stage 3',
  KS4: 'Key stage 4',
  KS5: 'Key stage 5 (sixth form)',
};

interface GroupRef {
  kind: GroupKind;
  code: string;
  name: string;
  yearGroup: number | null;
}

/** The groups a person belongs to follow from their record: class, year and key stage for pupils. */
function groupsFor(row: Pick<PersonTable, 'kind' | 'status' | 'year_group' | 'class_name'>): GroupRef[] {
  if (row.status === 'left') return [];
  switch (row.kind) {
    case 'pupil': {
      const refs: GroupRef[] = [];
      if (row.year_group !== null) {
        const stage = keyStageOf(row.year_group);
        refs.push({ kind: 'year_group', code: String(row.year_group), name: yearLabel(row.year_group), yearGroup: row.year_group });
        refs.push({ kind: 'key_stage', code: stage, name: keyStageNames[stage], yearGroup: null });
      }
      if (row.class_name) refs.push({ kind: 'class', code: row.class_name, name: `Class ${row.class_name}`, yearGroup: row.year_group });
      return refs;
    }
    case 'staff':
      return [{ kind: 'all_staff', code: 'staff', name: 'All staff', yearGroup: null }];
    case 'governor':
      return [{ kind: 'governors', code: 'governors', name: 'Governors', yearGroup: null }];
    case 'visitor':
      return [{ kind: 'guests', code: 'guests', name: 'Guests and community users', yearGroup: null }];
    default:
      return [];
  }
}

export interface ImportPreview {
  importId: string;
  kind: ImportKind;
  fileName: string;
  headers: string[];
  mapping: ColumnMapping;
  markLeavers: boolean;
  dataRows: number;
  validRows: number;
  problems: ImportProblem[];
  fileError: string | null;
  plan: ImportPlan | null;
  status: string;
}

export interface ImportOutcome {
  created: number;
  changed: number;
  unchanged: number;
  markedLeft: number;
  skippedRows: number;
}

export function createPeopleService(deps: { handle: DatabaseHandle; clock: () => Date; audit: AuditService; users: UserService }) {
  const { handle, clock, audit, users } = deps;
  const { db } = handle;
  let clearanceProvider: ClearanceProvider | undefined;

  async function syncMemberships(
    trx: DbOrTrx,
    schoolId: string,
    row: Pick<PersonTable, 'id' | 'kind' | 'status' | 'year_group' | 'class_name'>,
    cache?: Map<string, string>,
  ) {
    const groupIds: string[] = [];
    for (const ref of groupsFor(row)) groupIds.push(await ensureGroup(trx, schoolId, ref, cache));
    await repository.replaceMemberships(trx, schoolId, row.id, groupIds);
  }

  async function ensureGroup(trx: DbOrTrx, schoolId: string, ref: GroupRef, cache?: Map<string, string>): Promise<string> {
    const key = `${ref.kind}:${ref.code}`;
    const cached = cache?.get(key);
    if (cached) return cached;
    const existing = await repository.findGroupByCode(trx, schoolId, ref.kind, ref.code);
    const id = existing?.id ?? newId();
    if (!existing)
      await repository.insertGroup(trx, {
        school_id: schoolId,
        id,
        kind: ref.kind,
        code: ref.code,
        name: ref.name,
        year_group: ref.yearGroup,
        created_at: isoNow(clock),
      });
    cache?.set(key, id);
    return id;
  }

  function validate(input: PersonInput) {
    const parsed = personInputSchema.safeParse(input);
    if (!parsed.success) {
      throw invalid(
        'There is a problem with the details',
        parsed.error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'form'), message: issue.message })),
      );
    }
    const value = parsed.data;
    if (value.kind === 'pupil' && (value.yearGroup === null || value.yearGroup === undefined)) {
      throw invalid('There is a problem with the details', [{ field: 'yearGroup', message: 'Select the pupil’s year group' }]);
    }
    return value;
  }

  function columnsOf(value: ReturnType<typeof validate>) {
    return {
      kind: value.kind,
      legal_first_name: value.legalFirstName,
      legal_last_name: value.legalLastName,
      preferred_first_name: value.preferredFirstName,
      preferred_last_name: value.preferredLastName,
      date_of_birth: value.dateOfBirth ?? null,
      gender: value.gender ?? null,
      year_group: value.kind === 'pupil' ? (value.yearGroup ?? null) : null,
      class_name: value.kind === 'pupil' ? value.className : null,
      send: value.send ? 1 : 0,
      eal: value.eal ? 1 : 0,
      looked_after: value.lookedAfter ? 1 : 0,
      mis_id: value.misId,
      job_title: value.jobTitle,
      email: value.email ?? null,
      phone: value.phone,
      organisation: value.organisation,
      network_username: value.networkUsername ?? null,
      start_date: value.startDate ?? null,
      leave_date: value.leaveDate ?? null,
    };
  }

  async function markLeft(trx: DbOrTrx, schoolId: string, personId: string, leaveDate: string, context: AuditContext) {
    const row = await repository.findPerson(trx, schoolId, personId);
    if (!row) throw notFound('person');
    await repository.updatePerson(trx, schoolId, personId, { status: 'left', leave_date: row.leave_date ?? leaveDate, updated_at: isoNow(clock) });
    await repository.replaceMemberships(trx, schoolId, personId, []);
    // Leavers lose access at once (policies 000, 003: access removed when people leave).
    const account = await users.findByPerson(schoolId, personId, trx);
    if (account && account.status !== 'disabled') await users.disable(schoolId, account.id, context, trx);
    await audit.record(context, 'person.left', { type: 'person', id: personId }, {}, trx);
  }

  async function previewFrom(
    row: { id: string; kind: string; file_name: string; csv: string; mapping: string; status: string },
    schoolId: string,
  ): Promise<ImportPreview> {
    const kind = row.kind as ImportKind;
    const stored = JSON.parse(row.mapping) as { columns: ColumnMapping; markLeavers: boolean };
    const base = { importId: row.id, kind, fileName: row.file_name, mapping: stored.columns, markLeavers: stored.markLeavers, status: row.status };
    let headers: string[] = [];
    try {
      headers = (readCsv(row.csv)[0] ?? []).map((header) => header.trim());
      const parsed = parseFile(row.csv, kind, stored.columns);
      const existing = await repository.peopleByMisId(db, schoolId, kind);
      const plan = planImport(parsed, existing, { markLeavers: stored.markLeavers });
      return { ...base, headers, dataRows: parsed.dataRows, validRows: parsed.rows.length, problems: parsed.problems, fileError: null, plan };
    } catch (error) {
      if (error instanceof CsvFileError) return { ...base, headers, dataRows: 0, validRows: 0, problems: [], fileError: error.message, plan: null };
      throw error;
    }
  }

  return {
    toPerson,
    syncMemberships,

    /** The groups every school has from the start; classes and year groups appear as people join them. */
    async ensureStandardGroups(trx: DbOrTrx, schoolId: string): Promise<void> {
      const cache = new Map<string, string>();
      await ensureGroup(trx, schoolId, { kind: 'all_staff', code: 'staff', name: 'All staff', yearGroup: null }, cache);
      await ensureGroup(trx, schoolId, { kind: 'governors', code: 'governors', name: 'Governors', yearGroup: null }, cache);
      await ensureGroup(trx, schoolId, { kind: 'guests', code: 'guests', name: 'Guests and community users', yearGroup: null }, cache);
      for (const stage of keyStages) await ensureGroup(trx, schoolId, { kind: 'key_stage', code: stage, name: keyStageNames[stage], yearGroup: null }, cache);
    },

    async createPerson(trx: DbOrTrx, schoolId: string, input: PersonInput, context: AuditContext, cache?: Map<string, string>): Promise<Person> {
      const value = validate(input);
      const now = isoNow(clock);
      const row: PersonTable = { school_id: schoolId, id: newId(), ...columnsOf(value), status: 'current', created_at: now, updated_at: now };
      await repository.insertPerson(trx, row);
      await syncMemberships(trx, schoolId, row, cache);
      await audit.record(context, 'person.created', { type: 'person', id: row.id }, { kind: row.kind }, trx);
      return toPerson(row);
    },

    async create(schoolId: string, input: PersonInput, context: AuditContext): Promise<Person> {
      return db.transaction().execute((trx) => this.createPerson(trx, schoolId, input, context));
    },

    async update(schoolId: string, id: string, input: PersonInput, context: AuditContext): Promise<Person> {
      const value = validate(input);
      return db.transaction().execute(async (trx) => {
        const before = await repository.findPerson(trx, schoolId, id);
        if (!before) throw notFound('person');
        if (before.kind !== value.kind) throw invalid('A person’s kind cannot be changed; add them again as the new kind');
        const columns = columnsOf(value);
        const changed = Object.entries(columns)
          .filter(([key, next]) => before[key as keyof PersonTable] !== next)
          .map(([key]) => key);
        const row = { ...before, ...columns, updated_at: isoNow(clock) };
        await repository.updatePerson(trx, schoolId, id, { ...columns, updated_at: row.updated_at });
        await audit.record(context, 'person.updated', { type: 'person', id }, { fields: changed }, trx);
        if (row.status === 'current' && row.leave_date && row.leave_date <= row.updated_at.slice(0, 10)) {
          await markLeft(trx, schoolId, id, row.leave_date, context);
          return toPerson({ ...row, status: 'left' });
        }
        await syncMemberships(trx, schoolId, row);
        return toPerson(row);
      });
    },

    async markLeft(schoolId: string, personId: string, leaveDate: string, context: AuditContext): Promise<void> {
      await db.transaction().execute((trx) => markLeft(trx, schoolId, personId, leaveDate, context));
    },

    async get(schoolId: string, id: string): Promise<Person> {
      const row = await repository.findPerson(db, schoolId, id);
      if (!row) throw notFound('person');
      return toPerson(row);
    },

    async list(schoolId: string, filter: repository.PeopleFilter, page = 1, pageSize = 50) {
      const { rows, total } = await repository.listPeople(db, schoolId, filter, pageSize, (page - 1) * pageSize);
      return { people: rows.map(toPerson), total, page, pageSize };
    },

    /** Several people at once, by id (for other features' lists); unknown ids are left out. */
    async getMany(schoolId: string, ids: readonly string[], trx: DbOrTrx = db): Promise<Map<string, Person>> {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return new Map();
      const rows = await repository.peopleByIds(trx, schoolId, unique);
      return new Map(rows.map((row) => [row.id, toPerson(row)]));
    },

    /** Current people with a network user name (lower case) for proxies and logs, with whether each is staff. */
    async networkAccounts(schoolId: string): Promise<Map<string, { personId: string; staff: boolean }>> {
      const rows = await repository.networkAccounts(db, schoolId);
      return new Map(rows.map((row) => [row.network_username!.toLowerCase(), { personId: row.id, staff: row.kind === 'staff' }]));
    },

    /** Set once by the composition root: the access register answers clearance questions. */
    useClearance(provider: ClearanceProvider): void {
      clearanceProvider = provider;
    },

    /** Who is cleared for ICT access, and which filtering group applies to each. */
    async clearance(schoolId: string, personIds: readonly string[]): Promise<Map<string, Clearance>> {
      if (!clearanceProvider) throw new Error('No clearance provider: the access register is not wired in');
      return clearanceProvider(schoolId, personIds);
    },

    /** The staff who teach a class group. */
    async staffOfGroup(schoolId: string, groupId: string): Promise<Person[]> {
      return (await repository.staffOfGroup(db, schoolId, groupId)).map(toPerson);
    },

    /** The class names a member of staff teaches (for "your classes" views). */
    async classesTaughtBy(schoolId: string, personId: string): Promise<string[]> {
      return repository.classesTaughtBy(db, schoolId, personId);
    },

    async assignGroupStaff(schoolId: string, groupId: string, personId: string, context: AuditContext): Promise<void> {
      const group = await repository.findGroup(db, schoolId, groupId);
      if (!group || group.kind !== 'class') throw notFound('class');
      const person = await repository.findPerson(db, schoolId, personId);
      if (!person || person.kind !== 'staff' || person.status !== 'current')
        throw invalid('Choose a current member of staff', [{ field: 'personId', message: 'Choose a current member of staff' }]);
      await db.transaction().execute(async (trx) => {
        await repository.insertGroupStaff(trx, { school_id: schoolId, group_id: groupId, person_id: personId, created_at: isoNow(clock) });
        await audit.record(context, 'group.staff_assigned', { type: 'group', id: groupId }, { personId }, trx);
      });
    },

    async removeGroupStaff(schoolId: string, groupId: string, personId: string, context: AuditContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if ((await repository.deleteGroupStaff(trx, schoolId, groupId, personId)) === 0) throw notFound('teacher of this class');
        await audit.record(context, 'group.staff_removed', { type: 'group', id: groupId }, { personId }, trx);
      });
    },

    async idsInClass(schoolId: string, className: string): Promise<string[]> {
      return repository.idsInClass(db, schoolId, className);
    },

    async groupsOf(schoolId: string, personId: string) {
      return repository.groupsOfPerson(db, schoolId, personId);
    },

    async listGroups(schoolId: string) {
      const rows = await repository.listGroupsWithCounts(db, schoolId);
      const order: GroupKind[] = ['all_staff', 'governors', 'guests', 'key_stage', 'year_group', 'class'];
      return rows
        .map((row) => ({
          id: row.id,
          kind: row.kind as GroupKind,
          kindLabel: groupKindLabels[row.kind as GroupKind] ?? row.kind,
          code: row.code,
          name: row.name,
          yearGroup: row.year_group,
          members: Number(row.members),
        }))
        .sort(
          (a, b) =>
            order.indexOf(a.kind) - order.indexOf(b.kind) ||
            (a.yearGroup ?? 0) - (b.yearGroup ?? 0) ||
            a.name.localeCompare(b.name, 'en-GB', { numeric: true }),
        );
    },

    async getGroup(schoolId: string, id: string) {
      const row = await repository.findGroup(db, schoolId, id);
      if (!row) throw notFound('group');
      return { id: row.id, kind: row.kind as GroupKind, kindLabel: groupKindLabels[row.kind as GroupKind] ?? row.kind, code: row.code, name: row.name };
    },

    async linkGuardian(
      trx: DbOrTrx,
      schoolId: string,
      link: { parentId: string; pupilId: string; relationship: string; parentalResponsibility: boolean; priority?: number },
      context: AuditContext,
    ): Promise<void> {
      const parent = await repository.findPerson(trx, schoolId, link.parentId);
      const pupil = await repository.findPerson(trx, schoolId, link.pupilId);
      if (!parent || parent.kind !== 'parent') throw notFound('parent or carer');
      if (!pupil || pupil.kind !== 'pupil') throw notFound('pupil');
      await repository.upsertGuardianship(trx, {
        school_id: schoolId,
        parent_id: link.parentId,
        pupil_id: link.pupilId,
        relationship: link.relationship.trim() || 'Parent',
        parental_responsibility: link.parentalResponsibility ? 1 : 0,
        priority: link.priority ?? 1,
      });
      await audit.record(context, 'guardianship.linked', { type: 'person', id: link.pupilId }, { parentId: link.parentId }, trx);
    },

    async guardiansOf(schoolId: string, pupilId: string) {
      const rows = await repository.guardiansOf(db, schoolId, pupilId);
      return rows.map((row) => ({ ...toPerson(row), relationship: row.relationship, parentalResponsibility: row.parental_responsibility === 1 }));
    },

    async childrenOf(schoolId: string, parentId: string) {
      const rows = await repository.childrenOf(db, schoolId, parentId);
      return rows.map((row) => ({ ...toPerson(row), relationship: row.relationship, parentalResponsibility: row.parental_responsibility === 1 }));
    },

    // The roles register ("who to tell").

    async assignPost(
      trx: DbOrTrx,
      schoolId: string,
      input: { post: string; personId: string | null; name: string; contact: string | null; onPoster?: boolean },
      context: AuditContext,
    ): Promise<string> {
      if (!(posts as readonly string[]).includes(input.post))
        throw invalid('Choose a post from the list', [{ field: 'post', message: 'Choose a post from the list' }]);
      if (!input.name.trim() || input.name.length > 100)
        throw invalid('Enter the name to display', [{ field: 'name', message: 'Enter the name to display (up to 100 characters)' }]);
      if (input.contact && input.contact.length > 200)
        throw invalid('Contact details are too long', [{ field: 'contact', message: 'Contact details must be 200 characters or fewer' }]);
      if (input.personId && !(await repository.findPerson(trx, schoolId, input.personId))) throw notFound('person');
      const id = newId();
      await repository.insertRoleHolder(trx, {
        school_id: schoolId,
        id,
        post: input.post,
        person_id: input.personId,
        name: input.name.trim(),
        contact: input.contact?.trim() || null,
        on_poster: input.onPoster === false ? 0 : 1,
        created_at: isoNow(clock),
      });
      await audit.record(context, 'roles_register.assigned', { type: 'role_holder', id }, { post: input.post }, trx);
      return id;
    },

    async removePost(schoolId: string, id: string, context: AuditContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if ((await repository.deleteRoleHolder(trx, schoolId, id)) === 0) throw notFound('entry');
        await audit.record(context, 'roles_register.removed', { type: 'role_holder', id }, {}, trx);
      });
    },

    async rolesRegister(schoolId: string) {
      const rows = await repository.listRoleHolders(db, schoolId);
      return rows
        .map((row) => ({
          id: row.id,
          post: row.post as Post,
          postLabel: postLabels[row.post as Post] ?? row.post,
          name: row.name,
          contact: row.contact,
          onPoster: row.on_poster === 1,
          personId: row.person_id,
        }))
        .sort((a, b) => posts.indexOf(a.post) - posts.indexOf(b.post));
    },

    // MIS import: upload → mapping → dry run → apply (all rows, or only the valid ones).

    async startImport(schoolId: string, input: { kind: ImportKind; fileName: string; csv: string }, context: AuditContext): Promise<ImportPreview> {
      if (!(['pupil', 'staff'] as const).includes(input.kind))
        throw invalid('Choose pupils or staff', [{ field: 'kind', message: 'Choose whether the file lists pupils or staff' }]);
      if (input.csv.trim() === '') throw invalid('The file is empty', [{ field: 'file', message: 'Choose a CSV file exported from your MIS' }]);
      let headers: string[] = [];
      try {
        headers = (readCsv(input.csv)[0] ?? []).map((header) => header.trim());
      } catch (error) {
        if (error instanceof CsvFileError) throw invalid(error.message, [{ field: 'file', message: error.message }]);
        throw error;
      }
      const id = newId();
      const mapping = { columns: autoMapping(headers, input.kind), markLeavers: input.kind === 'pupil' };
      await repository.insertImport(db, {
        school_id: schoolId,
        id,
        kind: input.kind,
        file_name: input.fileName.slice(0, 200),
        csv: input.csv,
        mapping: JSON.stringify(mapping),
        status: 'pending',
        summary: null,
        created_by: context.actor?.kind === 'user' ? context.actor.userId : 'system',
        created_at: isoNow(clock),
      });
      await audit.record(context, 'people_import.uploaded', { type: 'people_import', id }, { kind: input.kind, bytes: input.csv.length });
      const row = await repository.findImport(db, schoolId, id);
      return previewFrom(row!, schoolId);
    },

    async previewImport(schoolId: string, importId: string): Promise<ImportPreview> {
      const row = await repository.findImport(db, schoolId, importId);
      if (!row) throw notFound('import');
      return previewFrom(row, schoolId);
    },

    async remapImport(schoolId: string, importId: string, columns: Record<string, string>, markLeavers: boolean): Promise<ImportPreview> {
      const row = await repository.findImport(db, schoolId, importId);
      if (!row) throw notFound('import');
      if (row.status !== 'pending') throw new AppError('CONFLICT', 'This import has already been applied');
      const headers = (readCsv(row.csv)[0] ?? []).length;
      const mapping: ColumnMapping = {};
      for (const fieldName of fieldsFor[row.kind as ImportKind]) {
        const raw = columns[fieldName];
        const index = raw === undefined || raw === '' ? null : Number(raw);
        mapping[fieldName] = index !== null && Number.isInteger(index) && index >= 0 && index < headers ? index : null;
      }
      await repository.updateImport(db, schoolId, importId, { mapping: JSON.stringify({ columns: mapping, markLeavers }) });
      return previewFrom({ ...row, mapping: JSON.stringify({ columns: mapping, markLeavers }) }, schoolId);
    },

    /**
     * Applies an import in one transaction. With problems in the file nothing is written unless
     * `validOnly` is chosen; then the invalid rows are skipped and nobody listed on them is marked as left.
     */
    async applyImport(schoolId: string, importId: string, options: { validOnly: boolean }, context: AuditContext): Promise<ImportOutcome> {
      return db.transaction().execute(async (trx) => {
        const row = await repository.findImport(trx, schoolId, importId);
        if (!row) throw notFound('import');
        if (row.status !== 'pending') throw new AppError('CONFLICT', 'This import has already been applied');
        const kind = row.kind as ImportKind;
        const stored = JSON.parse(row.mapping) as { columns: ColumnMapping; markLeavers: boolean };
        let parsed;
        try {
          parsed = parseFile(row.csv, kind, stored.columns);
        } catch (error) {
          if (error instanceof CsvFileError) throw invalid(error.message);
          throw error;
        }
        if (parsed.problems.length > 0 && !options.validOnly) {
          throw invalid(
            `The file has ${parsed.problems.length} problem${parsed.problems.length === 1 ? '' : 's'}: fix them and upload it again, or choose to import only the valid rows`,
          );
        }
        const existing = await repository.peopleByMisId(trx, schoolId, kind);
        const plan = planImport(parsed, existing, { markLeavers: stored.markLeavers });
        const now = isoNow(clock);
        const cache = new Map<string, string>();
        for (const create of plan.creates) {
          const person: PersonTable = {
            school_id: schoolId,
            id: newId(),
            kind,
            mis_id: create.misId,
            ...create.values,
            phone: null,
            organisation: null,
            status: create.values.leave_date && create.values.leave_date <= now.slice(0, 10) ? 'left' : 'current',
            created_at: now,
            updated_at: now,
          };
          await repository.insertPerson(trx, person);
          await syncMemberships(trx, schoolId, person, cache);
        }
        const statusBefore = new Map(existing.map((person) => [person.id, person.status]));
        for (const change of plan.changes) {
          const leaving = Boolean(change.values.leave_date && change.values.leave_date <= now.slice(0, 10));
          if (leaving && statusBefore.get(change.personId) !== 'left') {
            // A leaving date that has passed: the same path as any leaver, so their account is disabled too.
            await repository.updatePerson(trx, schoolId, change.personId, { ...change.values, updated_at: now });
            await markLeft(trx, schoolId, change.personId, change.values.leave_date!, context);
            continue;
          }
          const status = leaving ? 'left' : 'current';
          await repository.updatePerson(trx, schoolId, change.personId, { ...change.values, status, updated_at: now });
          await syncMemberships(
            trx,
            schoolId,
            { id: change.personId, kind, status, year_group: change.values.year_group, class_name: change.values.class_name },
            cache,
          );
        }
        for (const leaver of plan.leavers) await markLeft(trx, schoolId, leaver.personId, now.slice(0, 10), context);
        const outcome: ImportOutcome = {
          created: plan.creates.length,
          changed: plan.changes.length,
          unchanged: plan.unchanged,
          markedLeft: plan.leavers.length,
          skippedRows: parsed.dataRows - parsed.rows.length,
        };
        // The file is not kept once applied: only the counts.
        await repository.updateImport(trx, schoolId, importId, { status: 'applied', summary: JSON.stringify(outcome), csv: '' });
        await audit.record(context, 'people_import.applied', { type: 'people_import', id: importId }, { ...outcome }, trx);
        return outcome;
      });
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
