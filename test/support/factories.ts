import { setUpSchool } from '../../src/features/setup/service.js';
import type { Role } from '../../src/platform/roles.js';
import { newTotpSecret } from '../../src/platform/auth/totp.js';
import type { PersonInput } from '../../src/features/people/schema.js';
import type { Services } from '../../src/services.js';

export const testPassword = 'correct-horse-battery';
let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter += 1)}`;

/** A school with its first headteacher (two-factor enrolled, so the secret is returned). */
export async function buildSchool(services: Services, name = 'Fernbrook Primary School') {
  const email = `head-${unique()}@fernbrook.test`;
  const { school, userId } = await setUpSchool(
    services,
    { schoolName: name, urn: '', headName: 'Robin Ashdown', headEmail: email, password: testPassword },
    { allowWhenSchoolsExist: true },
  );
  const totpSecret = newTotpSecret();
  await services.auth.enrolSecret(services.handle.db, school.id, userId, totpSecret);
  return { school, schoolId: school.id, head: { userId, email, password: testPassword, totpSecret } };
}

/** An active account with the given roles; two-factor enrolled when `twoFactor` is set. */
export async function buildUser(
  services: Services,
  schoolId: string,
  roles: Role[],
  options: { twoFactor?: boolean; name?: string; staffRecord?: boolean } = {},
) {
  const email = `${roles[0] ?? 'user'}-${unique()}@fernbrook.test`;
  const displayName = options.name ?? `Test ${roles.join(' ')}`;
  // With staffRecord, the account is linked to a staff person record (as the MIS import or signing would).
  const person = options.staffRecord
    ? await services.people.create(
        schoolId,
        { kind: 'staff', legalFirstName: displayName.split(' ')[0]!, legalLastName: displayName.split(' ').slice(1).join(' ') || 'Staff', email },
        { schoolId },
      )
    : null;
  const userId = await services.handle.db
    .transaction()
    .execute((trx) =>
      services.users.createWithPassword(trx, schoolId, { displayName, email, roles, password: testPassword, personId: person?.id ?? null }, { schoolId }),
    );
  let totpSecret: string | undefined;
  if (options.twoFactor) {
    totpSecret = newTotpSecret();
    await services.auth.enrolSecret(services.handle.db, schoolId, userId, totpSecret);
  }
  return { userId, email, password: testPassword, totpSecret, personId: person?.id ?? null };
}

export async function buildPupil(services: Services, schoolId: string, overrides: Partial<PersonInput> = {}) {
  return services.people.create(
    schoolId,
    { kind: 'pupil', legalFirstName: 'Ada', legalLastName: `Pupil${unique()}`, yearGroup: 3, className: '3K', ...overrides },
    { schoolId },
  );
}

/** A parent or carer on record, linked to a pupil (with parental responsibility unless told otherwise). */
export async function buildParentOf(
  services: Services,
  schoolId: string,
  pupilId: string,
  options: { firstName?: string; lastName?: string; relationship?: string; parentalResponsibility?: boolean } = {},
) {
  const context = { schoolId };
  const parent = await services.people.create(
    schoolId,
    { kind: 'parent', legalFirstName: options.firstName ?? 'Alex', legalLastName: options.lastName ?? `Parent${unique()}` },
    context,
  );
  await services.handle.db
    .transaction()
    .execute((trx) =>
      services.people.linkGuardian(
        trx,
        schoolId,
        { parentId: parent.id, pupilId, relationship: options.relationship ?? 'Parent', parentalResponsibility: options.parentalResponsibility ?? true },
        context,
      ),
    );
  return parent;
}
