import type { Actor } from '../../platform/permissions.js';
import type { Role } from '../../platform/roles.js';
import type { Visibility } from './procedure.js';

/**
 * Need to know (DESIGN.md): who may list, read, update or close an incident. Pure, so the whole
 * role × incident × action table is tested directly and through the routes.
 *
 * - Reporter: their own report's status only (never the response).
 * - Teachers and other staff, technicians, governors: no incident records.
 * - E-safety lead: online-safety incidents except DSL-only ones and allegations.
 * - DSL and deputies: all except allegations against staff; the headteacher can share an
 *   allegation with the DSL (not the deputies): "visible to the head and DSL only".
 * - Headteacher: all.
 * - API tokens with incidents.read: ordinary incidents, read only.
 */
export type IncidentAction = 'list' | 'read' | 'update' | 'close';

const visibleTo: Partial<Record<Role, readonly Visibility[]>> = {
  esafety_lead: ['normal'],
  dsl: ['normal', 'dsl_only'],
  deputy_dsl: ['normal', 'dsl_only'],
  headteacher: ['normal', 'dsl_only', 'allegation'],
};

/** The visibilities an actor may see in the log at all. */
export function visibilitiesFor(actor: Actor): Visibility[] {
  if (actor.kind === 'token') return actor.scopes.includes('incidents.read') ? ['normal'] : [];
  const set = new Set<Visibility>();
  for (const role of actor.roles) for (const visibility of visibleTo[role] ?? []) set.add(visibility);
  return [...set];
}

export function canOnIncident(actor: Actor, incident: { visibility: Visibility; dslGranted?: boolean }, action: IncidentAction): boolean {
  const granted = incident.visibility === 'allegation' && incident.dslGranted === true && seesSharedAllegations(actor);
  const allowed = granted || visibilitiesFor(actor).includes(incident.visibility);
  if (actor.kind === 'token') return allowed && (action === 'list' || action === 'read');
  return allowed;
}

/** The DSL (not deputies) sees allegations the headteacher has shared with them. */
export function seesSharedAllegations(actor: Actor): boolean {
  return actor.kind === 'user' && actor.roles.includes('dsl');
}

/** A reporter sees the status of what they reported, whoever else may see the record. */
export function canSeeStatus(actor: Actor, incident: { reportedBy: string | null; visibility: Visibility; dslGranted?: boolean }): boolean {
  return (actor.kind === 'user' && incident.reportedBy === actor.userId) || canOnIncident(actor, incident, 'read');
}
