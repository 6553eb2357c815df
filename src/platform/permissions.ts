import type { Role } from './roles.js';

/**
 * The one permission module. Every route declares one of these (or 'public' / 'signed-in'),
 * and the request hook in app.ts checks it through can(); services call can() again for
 * record-level rules.
 */
const matrix = {
  'dashboard.read': ['staff', 'technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher', 'governor', 'trust_admin'],
  'people.read': ['staff', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'people.manage': ['esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'people.import': ['esafety_lead', 'headteacher'],
  'groups.read': ['staff', 'technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'rolesRegister.read': ['pupil', 'parent', 'staff', 'technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher', 'governor', 'visitor'],
  'rolesRegister.manage': ['esafety_lead', 'headteacher'],
  'users.read': ['esafety_lead', 'headteacher'],
  'users.manage': ['headteacher'],
  'audit.read': ['headteacher'],
  'apiTokens.manage': ['headteacher', 'technician'],
  'school.manage': ['headteacher'],
  // Only the head: unsent invitations in the outbox carry their links.
  'outbox.read': ['headteacher'],
  // Anyone with an account can report a concern (policies 000–004: "anyone can report").
  'incident.report': ['pupil', 'parent', 'staff', 'technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher', 'governor', 'visitor'],
  // The people who respond; which incidents each sees is decided record by record (incidents/access.ts).
  'incident.respond': ['esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'incident.review': ['dsl', 'deputy_dsl', 'headteacher'],
  // Allegations about staff are the headteacher's to share with the DSL.
  'incident.shareAllegation': ['headteacher'],
  'incidentSettings.manage': ['esafety_lead', 'dsl', 'headteacher'],
  // The "check before you post" grid is for staff; recording decisions for those who keep the records.
  'consents.grid': ['staff', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'consents.manage': ['esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'agreements.manage': ['esafety_lead', 'headteacher'],
  'agreements.classSession': ['staff', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'agreements.sign': ['staff', 'technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher', 'governor'],
  // Policies 000, 003 §13, 004 §7.2: a current record of who is cleared for ICT access.
  'accessRegister.read': ['technician', 'esafety_lead', 'headteacher'],
  // The technician records the network accounts made for cleared people and removed for leavers.
  'accessRegister.provision': ['technician', 'headteacher'],
  // Filtering (policies 000, 003 §12, 004 §7.3): the technician and e-safety lead run it; any member of
  // staff may ask for a change; the headteacher (and, by school setting, the technician first) decides;
  // governors read the change log.
  'filtering.read': ['technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'filtering.manage': ['technician', 'esafety_lead', 'headteacher'],
  'filtering.request': ['staff', 'technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'filtering.approve': ['technician', 'headteacher'],
  'filtering.changeLog': ['technician', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher', 'governor'],
  // Video conferences (policies 001, 002, 004 §7.9): staff ask and see the log; only the head approves.
  'videoConferences.request': ['staff', 'esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'videoConferences.approve': ['headteacher'],
  // Monitoring (policies 001, 003): alerts go to the e-safety lead and the DSLs (alerts about staff to the
  // headteacher alone, decided record by record); they triage and read the reports; the DSLs edit the
  // phrase lists; the technician sees ingest volumes, never the alerts; governors read counts only.
  'monitoring.alerts': ['esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'monitoring.reports': ['esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
  'monitoring.phrases': ['dsl', 'deputy_dsl', 'headteacher'],
  'monitoring.admin': ['technician', 'esafety_lead', 'headteacher'],
  // Not the DSLs: the governors' counts include alerts about staff, which are the headteacher's alone.
  'monitoring.governorReport': ['governor', 'headteacher'],
  // API scope only: log shippers posting batches of web-activity lines.
  'monitoring.ingest': [],
  // API scope only: proxies and firewalls asking for decisions.
  'filtering.decide': [],
  // API scope only: ordinary (not DSL-only, not allegation) incidents, read only.
  'incidents.read': ['esafety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof matrix;
export const permissions = Object.keys(matrix) as Permission[];

/**
 * What a route declares: a permission; 'signed-in' (any fully signed-in user); 'signing-in'
 * (a session part-way through sign-in, for the second-factor pages); or 'public'.
 */
export type RouteAccess = Permission | 'public' | 'signed-in' | 'signing-in';

export type Actor =
  | { kind: 'user'; schoolId: string; userId: string; displayName: string; roles: readonly Role[] }
  | { kind: 'token'; schoolId: string; tokenId: string; displayName: string; scopes: readonly Permission[] };

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(matrix, value);
}

export function rolesWith(permission: Permission): readonly Role[] {
  return matrix[permission];
}

export function can(actor: Actor | undefined, permission: Permission): boolean {
  if (!actor) return false;
  if (actor.kind === 'token') return actor.scopes.includes(permission);
  const allowed: readonly Role[] = matrix[permission];
  return actor.roles.some((role) => allowed.includes(role));
}

/** Permissions an API token may be given: read/integration scopes only, never account control. */
export const tokenScopes: readonly Permission[] = ['people.read', 'groups.read', 'incident.report', 'incidents.read', 'filtering.decide', 'monitoring.ingest'];

/** API-only scopes no role holds, and the permission whose holders may give them to a token. */
const grantedBy: Partial<Record<Permission, Permission>> = {
  'filtering.decide': 'filtering.manage',
  'monitoring.ingest': 'monitoring.admin',
};

/** Whether an actor may give a token this scope: one they hold, or an API-only scope their work covers. */
export function canGrant(actor: Actor | undefined, scope: Permission): boolean {
  const via = grantedBy[scope];
  return can(actor, scope) || (via !== undefined && actor?.kind === 'user' && can(actor, via));
}
