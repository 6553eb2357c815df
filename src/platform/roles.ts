/** Roles from DESIGN.md; a user may hold several, per school. */
export const roles = [
  'pupil',
  'parent',
  'staff',
  'technician',
  'esafety_lead',
  'dsl',
  'deputy_dsl',
  'headteacher',
  'governor',
  'visitor',
  'trust_admin',
] as const;

export type Role = (typeof roles)[number];

export const roleLabels: Record<Role, string> = {
  pupil: 'Pupil',
  parent: 'Parent or carer',
  staff: 'Staff (teacher or support staff)',
  technician: 'Technician (network manager or IT provider)',
  esafety_lead: 'E-safety lead',
  dsl: 'Designated safeguarding lead (DSL)',
  deputy_dsl: 'Deputy DSL',
  headteacher: 'Headteacher',
  governor: 'Governor',
  visitor: 'Visitor or community user',
  trust_admin: 'Trust administrator',
};

/** Roles that can read safeguarding records must sign in with two factors (DESIGN.md security rules). */
export const rolesRequiringTwoFactor: readonly Role[] = ['dsl', 'deputy_dsl', 'esafety_lead', 'headteacher'];

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function requiresTwoFactor(held: readonly Role[]): boolean {
  return held.some((role) => rolesRequiringTwoFactor.includes(role));
}
