import { parse } from 'csv-parse/sync';
import type { PersonTable } from '../../db/schema.js';
import { parseDate, parseGender, parseSendStatus, parseYearGroup, parseYesNo, type PersonKind } from './schema.js';

/**
 * MIS CSV import: pure parsing and planning, no I/O. Headers from SIMS and Arbor exports are
 * recognised; the user can change the mapping before anything is written.
 */

export type ImportKind = Extract<PersonKind, 'pupil' | 'staff'>;

export const importFields = [
  'misId',
  'legalFirstName',
  'legalLastName',
  'preferredFirstName',
  'preferredLastName',
  'dateOfBirth',
  'gender',
  'yearGroup',
  'className',
  'send',
  'eal',
  'lookedAfter',
  'jobTitle',
  'email',
  'startDate',
  'leaveDate',
  'networkUsername',
] as const;
export type ImportField = (typeof importFields)[number];

export const importFieldLabels: Record<ImportField, string> = {
  misId: 'MIS id (admission number, UPN or staff code)',
  legalFirstName: 'Legal first name',
  legalLastName: 'Legal last name',
  preferredFirstName: 'Preferred first name',
  preferredLastName: 'Preferred last name',
  dateOfBirth: 'Date of birth',
  gender: 'Gender',
  yearGroup: 'Year group',
  className: 'Class / registration group',
  send: 'SEND status',
  eal: 'EAL',
  lookedAfter: 'Looked after',
  jobTitle: 'Job title',
  email: 'Email',
  startDate: 'Start / admission date',
  leaveDate: 'Leaving date',
  networkUsername: 'Network user name (what the web proxy sees)',
};

export const fieldsFor: Record<ImportKind, readonly ImportField[]> = {
  pupil: [
    'misId',
    'legalFirstName',
    'legalLastName',
    'preferredFirstName',
    'preferredLastName',
    'dateOfBirth',
    'gender',
    'yearGroup',
    'className',
    'send',
    'eal',
    'lookedAfter',
    'startDate',
    'leaveDate',
    'networkUsername',
  ],
  staff: [
    'misId',
    'legalFirstName',
    'legalLastName',
    'preferredFirstName',
    'preferredLastName',
    'jobTitle',
    'email',
    'startDate',
    'leaveDate',
    'networkUsername',
  ],
};

const requiredFields: readonly ImportField[] = ['misId', 'legalFirstName', 'legalLastName'];

// Header spellings seen in SIMS and Arbor exports, compared without case, spaces or punctuation.
const synonyms: Record<ImportField, string[]> = {
  misId: [
    'misid',
    'adno',
    'admissionnumber',
    'admno',
    'studentid',
    'pupilid',
    'arborid',
    'upn',
    'uniquepupilnumber',
    'staffcode',
    'staffid',
    'employeeid',
    'personid',
    'id',
  ],
  legalFirstName: ['legalforename', 'legalfirstname', 'forename', 'firstname', 'givenname', 'forenames'],
  legalLastName: ['legalsurname', 'legallastname', 'surname', 'lastname', 'familyname'],
  preferredFirstName: ['preferredforename', 'preferredfirstname', 'knownas', 'chosenforename'],
  preferredLastName: ['preferredsurname', 'preferredlastname', 'chosensurname'],
  dateOfBirth: ['dob', 'dateofbirth', 'birthdate'],
  gender: ['gender', 'sex'],
  yearGroup: ['year', 'yeargroup', 'ncyear', 'ncyearactual', 'curriculumyear', 'nationalcurriculumyear'],
  className: ['reg', 'reggroup', 'registrationgroup', 'regform', 'registrationform', 'class', 'form', 'formgroup', 'tutorgroup'],
  send: ['senstatus', 'sen', 'send', 'sendstatus', 'senprovision'],
  eal: ['eal', 'ealstatus', 'englishasanadditionallanguage'],
  lookedAfter: ['incare', 'lookedafter', 'lac', 'cla', 'childlookedafter', 'lookedafterchild'],
  jobTitle: ['jobtitle', 'role', 'post', 'position'],
  email: ['email', 'emailaddress', 'workemail', 'schoolemail'],
  startDate: ['admissiondate', 'startdate', 'dateofadmission', 'entrydate', 'employmentstart'],
  leaveDate: ['leavingdate', 'leavedate', 'dateofleaving', 'enddate'],
  networkUsername: ['username', 'networkusername', 'networklogin', 'login', 'loginname', 'logon', 'samaccountname', 'adusername'],
};

const normaliseHeader = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Column index for each field (or null); the first matching synonym wins. */
export type ColumnMapping = Partial<Record<ImportField, number | null>>;

export function autoMapping(headers: string[], kind: ImportKind): ColumnMapping {
  const normalised = headers.map(normaliseHeader);
  const mapping: ColumnMapping = {};
  const taken = new Set<number>();
  for (const fieldName of fieldsFor[kind]) {
    mapping[fieldName] = null;
    for (const synonym of synonyms[fieldName]) {
      const index = normalised.findIndex((header, i) => header === synonym && !taken.has(i));
      if (index >= 0) {
        mapping[fieldName] = index;
        taken.add(index);
        break;
      }
    }
  }
  return mapping;
}

export interface ImportProblem {
  row: number;
  column: string;
  reason: string;
}

/** One clean row, in the columns of the people table. */
export interface ImportRow {
  row: number;
  misId: string;
  values: Pick<
    PersonTable,
    | 'legal_first_name'
    | 'legal_last_name'
    | 'preferred_first_name'
    | 'preferred_last_name'
    | 'date_of_birth'
    | 'gender'
    | 'year_group'
    | 'class_name'
    | 'send'
    | 'eal'
    | 'looked_after'
    | 'job_title'
    | 'email'
    | 'start_date'
    | 'leave_date'
    | 'network_username'
  >;
}

export interface ParsedFile {
  headers: string[];
  rows: ImportRow[];
  problems: ImportProblem[];
  /** Rows that had data (valid or not). */
  dataRows: number;
  /** Every MIS id in the file, valid row or not: nobody listed in the file is marked as left. */
  misIdsInFile: Set<string>;
}

export class CsvFileError extends Error {
  override name = 'CsvFileError';
}

export function readCsv(text: string): string[][] {
  try {
    const records: string[][] = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: false, trim: false });
    return records;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CsvFileError(`The file is not valid CSV: ${message}`);
  }
}

const textLimits: Partial<Record<ImportField, number>> = {
  misId: 40,
  legalFirstName: 100,
  legalLastName: 100,
  preferredFirstName: 100,
  preferredLastName: 100,
  className: 40,
  jobTitle: 100,
  email: 200,
  networkUsername: 100,
};

export function parseFile(text: string, kind: ImportKind, mapping: ColumnMapping): ParsedFile {
  const records = readCsv(text);
  const headers = (records[0] ?? []).map((header) => header.trim());
  if (headers.length === 0 || headers.every((header) => header === '')) throw new CsvFileError('The file is empty: the first row must be the column headings');
  for (const fieldName of requiredFields) {
    const index = mapping[fieldName];
    if (index === null || index === undefined || index >= headers.length) {
      throw new CsvFileError(`No column is chosen for “${importFieldLabels[fieldName]}”, which every row needs`);
    }
  }
  const problems: ImportProblem[] = [];
  const rows: ImportRow[] = [];
  const misIdsInFile = new Set<string>();
  const firstRowOf = new Map<string, number>();
  let dataRows = 0;
  records.slice(1).forEach((cells, index) => {
    const rowNumber = index + 2; // as a spreadsheet numbers it: the headings are row 1
    if (cells.every((cell) => cell.trim() === '')) return;
    dataRows += 1;
    const rowProblems: ImportProblem[] = [];
    const cell = (fieldName: ImportField): string => {
      const column = mapping[fieldName];
      return column === null || column === undefined ? '' : (cells[column] ?? '').trim();
    };
    const problem = (fieldName: ImportField, reason: string) => {
      const column = mapping[fieldName];
      rowProblems.push({
        row: rowNumber,
        column: column === null || column === undefined ? importFieldLabels[fieldName] : (headers[column] ?? importFieldLabels[fieldName]),
        reason,
      });
    };
    const text = (fieldName: ImportField): string | null => {
      const value = cell(fieldName);
      if (value === '') return null;
      const limit = textLimits[fieldName] ?? 100;
      if (value.length > limit) problem(fieldName, `is longer than ${limit} characters`);
      else if (/[\p{Cc}<>]/u.test(value)) problem(fieldName, 'contains < > or control characters');
      return value;
    };
    const date = (fieldName: ImportField): string | null => {
      const parsed = parseDate(cell(fieldName));
      if (parsed === 'invalid') problem(fieldName, `“${cell(fieldName)}” is not a date (use DD/MM/YYYY or YYYY-MM-DD)`);
      return parsed === 'invalid' ? null : parsed;
    };
    const yesNo = (fieldName: ImportField, parser: (value: string) => boolean | 'invalid'): number => {
      const parsed = parser(cell(fieldName));
      if (parsed === 'invalid')
        problem(fieldName, `“${cell(fieldName)}” is not understood (use Y or N${fieldName === 'send' ? ', or K / E for SEN support / EHC plan' : ''})`);
      return parsed === true ? 1 : 0;
    };

    const misId = text('misId');
    if (!misId) problem('misId', 'is empty: every row needs the MIS id so a re-import updates the same person');
    else {
      misIdsInFile.add(misId);
      const earlier = firstRowOf.get(misId);
      if (earlier !== undefined) problem('misId', `“${misId}” is also on row ${earlier}`);
      else firstRowOf.set(misId, rowNumber);
    }
    const legalFirstName = text('legalFirstName');
    if (!legalFirstName) problem('legalFirstName', 'is empty');
    const legalLastName = text('legalLastName');
    if (!legalLastName) problem('legalLastName', 'is empty');

    let yearGroup: number | null = null;
    let gender: string | null = null;
    if (kind === 'pupil') {
      yearGroup = parseYearGroup(cell('yearGroup'));
      if (Number.isNaN(yearGroup)) {
        problem('yearGroup', `“${cell('yearGroup')}” is not a year group (use R, N or 1 to 13)`);
        yearGroup = null;
      } else if (yearGroup === null) problem('yearGroup', 'is empty');
      const parsedGender = parseGender(cell('gender'));
      if (parsedGender === 'invalid') problem('gender', `“${cell('gender')}” is not understood (use M, F, X or U)`);
      else gender = parsedGender;
    }
    const email = kind === 'staff' ? text('email') : null;
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problem('email', `“${email}” is not an email address`);

    const values: ImportRow['values'] = {
      legal_first_name: legalFirstName ?? '',
      legal_last_name: legalLastName ?? '',
      preferred_first_name: text('preferredFirstName'),
      preferred_last_name: text('preferredLastName'),
      date_of_birth: kind === 'pupil' ? date('dateOfBirth') : null,
      gender,
      year_group: yearGroup,
      class_name: kind === 'pupil' ? text('className') : null,
      send: kind === 'pupil' ? yesNo('send', parseSendStatus) : 0,
      eal: kind === 'pupil' ? yesNo('eal', parseYesNo) : 0,
      looked_after: kind === 'pupil' ? yesNo('lookedAfter', parseYesNo) : 0,
      job_title: kind === 'staff' ? text('jobTitle') : null,
      email,
      start_date: date('startDate'),
      leave_date: date('leaveDate'),
      network_username: text('networkUsername')?.toLowerCase() ?? null,
    };
    if (rowProblems.length > 0) problems.push(...rowProblems);
    else rows.push({ row: rowNumber, misId: misId!, values });
  });
  return { headers, rows, problems, dataRows, misIdsInFile };
}

export interface PlannedChange {
  personId: string;
  row: number;
  misId: string;
  name: string;
  fields: string[];
  values: ImportRow['values'];
}

export interface ImportPlan {
  creates: ImportRow[];
  changes: PlannedChange[];
  unchanged: number;
  leavers: Array<{ personId: string; misId: string; name: string }>;
}

type ExistingPerson = Pick<PersonTable, 'id' | 'mis_id' | 'status' | 'legal_first_name' | 'legal_last_name'> & ImportRow['values'];

const compared: Array<keyof ImportRow['values']> = [
  'legal_first_name',
  'legal_last_name',
  'preferred_first_name',
  'preferred_last_name',
  'date_of_birth',
  'gender',
  'year_group',
  'class_name',
  'send',
  'eal',
  'looked_after',
  'job_title',
  'email',
  'start_date',
  'leave_date',
  'network_username',
];

/** What an import would do: idempotent on MIS id; leavers are marked, never deleted. */
export function planImport(parsed: ParsedFile, existing: ExistingPerson[], options: { markLeavers: boolean }): ImportPlan {
  const byMisId = new Map(existing.map((person) => [person.mis_id, person]));
  const plan: ImportPlan = { creates: [], changes: [], unchanged: 0, leavers: [] };
  for (const row of parsed.rows) {
    const person = byMisId.get(row.misId);
    if (!person) {
      plan.creates.push(row);
      continue;
    }
    const fields: string[] = compared.filter((column) => (person[column] ?? null) !== (row.values[column] ?? null));
    if (person.status === 'left' && !row.values.leave_date) fields.push('status');
    if (fields.length === 0) plan.unchanged += 1;
    else
      plan.changes.push({
        personId: person.id,
        row: row.row,
        misId: row.misId,
        name: `${row.values.legal_first_name} ${row.values.legal_last_name}`,
        fields,
        values: row.values,
      });
  }
  if (options.markLeavers) {
    for (const person of existing) {
      if (person.status !== 'left' && person.mis_id && !parsed.misIdsInFile.has(person.mis_id)) {
        plan.leavers.push({ personId: person.id, misId: person.mis_id, name: `${person.legal_first_name} ${person.legal_last_name}` });
      }
    }
  }
  return plan;
}
