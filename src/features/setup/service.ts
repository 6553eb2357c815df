import { serialise } from '../../db/locks.js';
import type { Services } from '../../services.js';
import type { AuditContext } from '../../platform/audit/service.js';
import { AppError, invalid, type FieldError } from '../../platform/errors.js';

export interface SetupInput {
  schoolName: string;
  urn: string;
  headName: string;
  headEmail: string;
  password: string;
}

/** First run: creates the school and its first headteacher in one transaction. */
export async function setUpSchool(
  services: Pick<Services, 'handle' | 'schools' | 'users' | 'people' | 'audit'>,
  input: SetupInput,
  options: { ip?: string | undefined; allowWhenSchoolsExist?: boolean; isDemo?: boolean } = {},
) {
  const fields: FieldError[] = [];
  if (!input.schoolName.trim()) fields.push({ field: 'schoolName', message: 'Enter the school’s name' });
  if (input.urn && !/^\d{6}$/.test(input.urn.trim())) fields.push({ field: 'urn', message: 'URN must be 6 digits, like 123456' });
  if (!input.headName.trim()) fields.push({ field: 'headName', message: 'Enter the headteacher’s full name' });
  if (fields.length > 0) throw invalid('There is a problem with the details', fields);
  const { handle, schools, users, people, audit } = services;
  return handle.db.transaction().execute(async (trx) => {
    // Two first-run requests at once must not both create a school.
    await serialise(trx, handle.dialect, 'haven:setup');
    if (!options.allowWhenSchoolsExist && (await schools.count(trx)) > 0) {
      throw new AppError('CONFLICT', 'Haven is already set up. Sign in instead.');
    }
    const school = await schools.create(trx, { name: input.schoolName.trim(), urn: input.urn.trim() || null, isDemo: options.isDemo ?? false });
    const system: AuditContext = { schoolId: school.id, ip: options.ip };
    await audit.record(system, 'school.created', { type: 'school', id: school.id }, { name: school.name }, trx);
    await people.ensureStandardGroups(trx, school.id);
    const head = await people.createPerson(
      trx,
      school.id,
      { kind: 'staff', legalFirstName: firstName(input.headName), legalLastName: lastName(input.headName), jobTitle: 'Headteacher', email: input.headEmail },
      system,
    );
    const userId = await users.createWithPassword(
      trx,
      school.id,
      { displayName: input.headName, email: input.headEmail, roles: ['headteacher', 'staff'], personId: head.id, password: input.password },
      system,
    );
    await people.assignPost(trx, school.id, { post: 'headteacher', personId: head.id, name: input.headName.trim(), contact: null }, system);
    return { school, userId };
  });
}

export function firstName(fullName: string): string {
  const parts = fullName.trim().split(/\s+/);
  return parts.length > 1 ? parts.slice(0, -1).join(' ') : (parts[0] ?? '');
}

export function lastName(fullName: string): string {
  const parts = fullName.trim().split(/\s+/);
  return parts.length > 1 ? parts[parts.length - 1]! : '';
}
