import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import type { IncidentTable } from '../../db/schema.js';
import { isoNow, newId } from '../../db/helpers.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import { isImageOrVideo, sniffContentType, type FileStore } from '../../platform/files.js';
import type { Mailer } from '../../platform/mail.js';
import type { NotificationService } from '../../platform/notifications/service.js';
import type { Actor } from '../../platform/permissions.js';
import { roleLabels } from '../../platform/roles.js';
import type { UserService } from '../../platform/users/service.js';
import type { PeopleService, Person } from '../people/service.js';
import { canOnIncident, canSeeStatus, seesSharedAllegations, visibilitiesFor, type IncidentAction } from './access.js';
import {
  defaultIncidentTypes,
  defaultSanctionRules,
  dslOnlyProcedures,
  imageRefusingProcedures,
  safeEvidenceTypes,
  sanctionColumns,
  type SanctionAudience,
} from './defaults.js';
import {
  applicableSteps,
  openSteps,
  statusLabels,
  transition,
  type IncidentFacts,
  type IncidentStatus,
  type PersonRole,
  type Transition,
  type Visibility,
} from './procedure.js';
import * as repository from './repository.js';
import { concernSchema, involvedPersonSchema, triageSchema, type ConcernInput, type TriageInput } from './schema.js';

export interface IncidentPerson {
  id: string;
  personId: string | null;
  role: PersonRole;
  name: string;
  kind: 'pupil' | 'staff' | 'other';
  gender: string | null;
  className: string | null;
  yearLabel: string;
  outsideDescription: string | null;
}

function parseOrThrow<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } },
  value: unknown,
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid(
    'There is a problem with what was entered',
    parsed.error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'form'), message: issue.message })),
  );
}

export function createIncidentService(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  people: PeopleService;
  users: UserService;
  notifications: NotificationService;
  mailer: Mailer;
  files: FileStore;
  publicUrl: string;
}) {
  const { handle, clock, audit, people, users, notifications, mailer, files, publicUrl } = deps;
  const { db } = handle;

  async function typesFor(schoolId: string, trx: DbOrTrx = db) {
    let types = await repository.listTypes(trx, schoolId);
    if (types.length === 0) {
      await seedDefaults(trx, schoolId);
      types = await repository.listTypes(trx, schoolId);
    }
    return types;
  }

  async function seedDefaults(trx: DbOrTrx, schoolId: string) {
    const now = isoNow(clock);
    await repository.insertTypes(
      trx,
      defaultIncidentTypes.map((type, index) => ({
        school_id: schoolId,
        id: newId(),
        code: type.code,
        name: type.name,
        procedure: type.procedure,
        sort: index,
        retired_at: null,
        created_at: now,
      })),
    );
    if (!(await repository.hasSanctionRules(trx, schoolId))) {
      await repository.insertSanctionRules(
        trx,
        defaultSanctionRules.map((rule, index) => ({
          school_id: schoolId,
          id: newId(),
          audience: rule.audience,
          offence: rule.offence,
          type_codes: JSON.stringify(rule.types),
          actions: JSON.stringify(rule.actions),
          sort: index,
          retired_at: null,
        })),
      );
    }
  }

  function actorName(actor: Actor | undefined): string {
    return actor?.displayName ?? 'Haven';
  }

  async function history(trx: DbOrTrx, context: AuditContext, incidentId: string, kind: string, summary: string, reason: string | null = null) {
    await repository.insertHistory(trx, {
      school_id: context.schoolId,
      id: newId(),
      incident_id: incidentId,
      at: isoNow(clock),
      actor_user_id: context.actor?.kind === 'user' ? context.actor.userId : null,
      actor_name: actorName(context.actor),
      kind,
      summary,
      reason,
    });
  }

  /** Loads an incident the actor may act on; anything else is "not found", so existence is not confirmed. */
  async function loadFor(context: AuditContext, id: string, action: IncidentAction, trx: DbOrTrx = db): Promise<IncidentTable> {
    const row = await repository.findIncident(trx, context.schoolId, id);
    if (!row || !context.actor || !canOnIncident(context.actor, accessOf(row), action)) {
      await audit.record(context, 'incident.access_refused', { type: 'incident', id }, { action }, trx);
      throw notFound('incident');
    }
    return row;
  }

  async function peopleOf(schoolId: string, incidentIds: string[], trx: DbOrTrx = db): Promise<Map<string, IncidentPerson[]>> {
    const rows = await repository.peopleOfIncidents(trx, schoolId, incidentIds);
    const onRecord = await people.getMany(
      schoolId,
      rows.map((row) => row.person_id).filter((id): id is string => id !== null),
      trx,
    );
    const byIncident = new Map<string, IncidentPerson[]>();
    for (const row of rows) {
      const person: Person | undefined = row.person_id ? onRecord.get(row.person_id) : undefined;
      const entry: IncidentPerson = {
        id: row.id,
        personId: row.person_id,
        role: row.role as PersonRole,
        name: person ? person.displayName : (row.outside_name ?? 'Unknown'),
        kind: person?.kind === 'pupil' ? 'pupil' : person?.kind === 'staff' ? 'staff' : 'other',
        gender: person?.gender ?? null,
        className: person?.className ?? null,
        yearLabel: person?.yearLabel ?? '',
        outsideDescription: person?.kind === 'parent' ? 'Parent or carer' : row.outside_description,
      };
      byIncident.set(row.incident_id, [...(byIncident.get(row.incident_id) ?? []), entry]);
    }
    return byIncident;
  }

  async function factsOf(row: IncidentTable, trx: DbOrTrx = db): Promise<IncidentFacts> {
    const [types, involved] = await Promise.all([repository.typesOfIncidents(trx, row.school_id, [row.id]), peopleOf(row.school_id, [row.id], trx)]);
    return {
      status: row.status as IncidentStatus,
      illegal: row.illegal as IncidentFacts['illegal'],
      typeProcedures: types.map((type) => type.procedure).filter((procedure): procedure is string => procedure !== null),
      people: (involved.get(row.id) ?? []).map((person) => ({ kind: person.kind, role: person.role })),
      misuseInvestigation: row.misuse_investigation === 1,
      enteredIllegal: row.entered_illegal === 1,
      enteredInternal: row.entered_internal === 1,
    };
  }

  function refuseIfClosed(row: IncidentTable) {
    if (row.status === 'closed') throw new AppError('CONFLICT', 'This incident is closed and read-only. Reopen it, with a reason, to change it.');
  }

  async function move(
    context: AuditContext,
    id: string,
    action: IncidentAction,
    step: Transition,
    apply: (trx: DbOrTrx, row: IncidentTable, status: IncidentStatus) => Promise<void>,
  ) {
    await db.transaction().execute(async (trx) => {
      const row = await loadFor(context, id, action, trx);
      const result = transition(await factsOf(row, trx), await repository.stepsOf(trx, context.schoolId, id), step);
      if (!result.ok) throw new AppError('CONFLICT', result.reason);
      await apply(trx, row, result.status);
      await audit.record(context, `incident.${step.kind}`, { type: 'incident', id }, { status: result.status }, trx);
    });
  }

  return {
    typesFor,
    seedDefaults,

    /** Anyone signed in reports a concern; the DSL and e-safety lead are told at once (urgent ones by email too). */
    async report(
      context: AuditContext,
      input: ConcernInput,
      options: {
        source?: 'web' | 'api' | 'monitoring';
        /** At least this restricted from the start (monitoring: an alert about a member of staff is an allegation). */
        visibility?: Visibility;
        /** Runs inside the report's transaction (monitoring links its alert), so both are written or neither. */
        within?: (trx: DbOrTrx, incident: { id: string; reference: string }) => Promise<void>;
      } = {},
    ): Promise<{ id: string; reference: string }> {
      const value = parseOrThrow(concernSchema, input);
      const actor = context.actor;
      const schoolId = context.schoolId;
      const types = await typesFor(schoolId);
      const chosen = types.filter((type) => value.typeIds.includes(type.id) && type.retired_at === null);
      if (chosen.length !== value.typeIds.length) throw invalid('Choose types from the list', [{ field: 'typeIds', message: 'Choose types from the list' }]);
      const known = await people.getMany(
        schoolId,
        value.people.map((person) => person.personId).filter((id): id is string => Boolean(id)),
      );
      for (const person of value.people)
        if (person.personId && !known.has(person.personId))
          throw invalid('A person chosen is not on the school’s records', [{ field: 'people', message: 'Choose people from the school’s records' }]);
      const occurred = new Date(value.occurredAt);
      if (Number.isNaN(occurred.getTime())) throw invalid('Enter when it happened', [{ field: 'occurredAt', message: 'Enter a real date and time' }]);
      if (occurred.getTime() > clock().getTime() + 5 * 60_000)
        throw invalid('When it happened cannot be in the future', [{ field: 'occurredAt', message: 'When it happened cannot be in the future' }]);
      const now = isoNow(clock);
      const reporterRole = actor?.kind === 'user' ? actor.roles.map((role) => roleLabels[role]).join(', ') || 'Staff' : 'Integration';
      // Read before the transaction: SQLite has one connection, held by the transaction.
      const accounts = await users.list(schoolId);
      const result = await db.transaction().execute(async (trx) => {
        const year = clock().getUTCFullYear();
        const number = await repository.nextNumber(trx, handle.dialect, schoolId, year);
        const reference = `ES-${year}-${String(number).padStart(4, '0')}`;
        const id = newId();
        // An allegation about a member of staff is visible to the headteacher and DSL only from the start.
        // Sexual imagery and exploitation are for the DSL from the start (policy 004 §11), not the e-safety lead.
        const dslFromStart = chosen.some((type) => type.procedure !== null && dslOnlyProcedures.includes(type.procedure));
        const staffInstigator = value.people.some((person) => person.personId && known.get(person.personId)?.kind === 'staff' && person.role === 'instigator');
        const initialVisibility: Visibility =
          staffInstigator || options.visibility === 'allegation' ? 'allegation' : dslFromStart || options.visibility === 'dsl_only' ? 'dsl_only' : 'normal';
        await repository.insertIncident(trx, {
          school_id: schoolId,
          id,
          reference,
          reported_by: actor?.kind === 'user' ? actor.userId : null,
          reporter_name: value.reporterName ?? actorName(actor),
          reporter_role: reporterRole,
          source: options.source ?? 'web',
          occurred_at: occurred.toISOString(),
          location: value.location,
          device: value.device,
          risk_area: value.riskArea ?? null,
          what_happened: value.whatHappened,
          immediate_action: value.immediateAction,
          urgent: value.urgent ? 1 : 0,
          out_of_school: value.outOfSchool ? 1 : 0,
          status: 'reported',
          severity: null,
          illegal: null,
          police_advice: null,
          visibility: initialVisibility,
          dsl_granted: 0,
          entered_illegal: 0,
          entered_internal: 0,
          misuse_investigation: 0,
          second_senior_staff: null,
          lessons_learnt: null,
          monitoring_note: null,
          closed_at: null,
          created_at: now,
          updated_at: now,
        });
        await repository.linkTypes(
          trx,
          schoolId,
          id,
          chosen.map((type) => type.id),
        );
        await repository.insertPeople(
          trx,
          value.people.map((person) => ({
            school_id: schoolId,
            id: newId(),
            incident_id: id,
            person_id: person.personId ?? null,
            outside_name: person.personId ? null : person.outsideName,
            outside_description: person.outsideDescription,
            role: person.role,
          })),
        );
        await history(trx, context, id, 'reported', `Reported by ${value.reporterName ?? actorName(actor)}${value.urgent ? ' (urgent)' : ''}`);
        await audit.record(context, 'incident.reported', { type: 'incident', id }, { reference, urgent: value.urgent }, trx);
        if (options.within) await options.within(trx, { id, reference });
        const dslAndLead = accounts.filter(
          (user) =>
            user.status === 'active' &&
            canOnIncident(
              { kind: 'user', schoolId, userId: user.id, displayName: user.displayName, roles: user.roles },
              { visibility: initialVisibility },
              'read',
            ),
        );
        // No detail in notifications or email: the reference and a link only (DESIGN.md).
        await notifications.notify(
          trx,
          schoolId,
          dslAndLead.map((user) => user.id),
          { title: `${value.urgent ? 'Urgent concern' : 'New concern'} ${reference}`, link: `/incidents/${id}`, urgent: value.urgent },
        );
        return { id, reference, urgentTo: value.urgent ? dslAndLead.map((user) => user.email) : [] };
      });
      for (const email of result.urgentTo) {
        await mailer.send({
          schoolId,
          to: email,
          subject: `Urgent online-safety concern ${result.reference}`,
          text: `An urgent concern, ${result.reference}, has been reported in Haven.\n\nOpen it here (you will need to sign in):\n${publicUrl}/incidents/${result.id}`,
        });
      }
      return { id: result.id, reference: result.reference };
    },

    /** What a reporter sees: their own reports' reference and status, never the response. */
    async myReports(context: AuditContext) {
      if (context.actor?.kind !== 'user') return [];
      const { rows } = await repository.listLog(
        db,
        context.schoolId,
        { visibilities: ['normal', 'dsl_only', 'allegation'], reportedBy: context.actor.userId },
        100,
        0,
      );
      return rows.map((row) => ({
        id: row.id,
        reference: row.reference,
        reportedAt: row.created_at,
        status: row.status === 'closed' ? 'Closed' : row.status === 'reported' ? 'Received' : 'Being dealt with',
      }));
    },

    async statusFor(context: AuditContext, id: string) {
      const row = await repository.findIncident(db, context.schoolId, id);
      if (!row || !context.actor || !canSeeStatus(context.actor, { reportedBy: row.reported_by, ...accessOf(row) })) throw notFound('report');
      return {
        id: row.id,
        reference: row.reference,
        reportedAt: row.created_at,
        status: row.status === 'closed' ? 'Closed' : row.status === 'reported' ? 'Received' : 'Being dealt with',
      };
    },

    /** The whole record for a responder. Every read is audited. */
    async get(context: AuditContext, id: string) {
      const row = await loadFor(context, id, 'read');
      const schoolId = context.schoolId;
      const [types, involved, stepRows, historyRows, evidence, actions, sanctions, rules] = await Promise.all([
        repository.typesOfIncidents(db, schoolId, [id]),
        peopleOf(schoolId, [id]),
        repository.stepsOf(db, schoolId, id),
        repository.historyOf(db, schoolId, id),
        repository.evidenceOf(db, schoolId, [id]),
        repository.actionsOf(db, schoolId, [id]),
        repository.sanctionsOf(db, schoolId, id),
        repository.sanctionRules(db, schoolId),
      ]);
      await audit.read(context, 'incident', id);
      const facts = await factsOf(row);
      const recorded = new Map(stepRows.map((step) => [step.step, step]));
      const personList = involved.get(id) ?? [];
      const typeCodes = types.map((type) => type.code);
      const instigators = await Promise.all(
        personList
          .filter((person) => person.role === 'instigator' && person.personId && (person.kind === 'pupil' || person.kind === 'staff'))
          .map(async (person) => {
            const audience: SanctionAudience = person.kind === 'staff' ? 'staff' : 'pupil';
            const earlier = await repository.earlierAsInstigator(db, schoolId, person.personId!, row.occurred_at, id, {
              visibilities: context.actor ? visibilitiesFor(context.actor) : [],
              sharedAllegations: context.actor ? seesSharedAllegations(context.actor) : false,
            });
            const suggested = rules
              .filter((rule) => rule.audience === audience)
              .filter((rule) => {
                const codes = JSON.parse(rule.type_codes) as string[];
                return codes.includes('*') ? earlier > 0 : codes.some((code) => typeCodes.includes(code));
              })
              .map((rule) => ({
                id: rule.id,
                offence: rule.offence,
                actions: (JSON.parse(rule.actions) as string[]).map((action) => labelOf(audience, action)),
              }));
            return { person, audience, earlier, suggested, columns: sanctionColumns[audience].map(([value, text]) => ({ value, text })) };
          }),
      );
      return {
        incident: row,
        statusLabel: statusLabels[row.status as IncidentStatus],
        types,
        people: personList,
        steps: applicableSteps(facts).map((step) => ({ ...step, record: recorded.get(step.key) ?? null })),
        openSteps: openSteps(facts, stepRows).length,
        history: historyRows,
        evidence,
        actions,
        sanctions: sanctions.map((sanction) => ({
          ...sanction,
          actions: JSON.parse(sanction.actions) as string[],
          person: personList.find((person) => person.id === sanction.incident_person_id),
        })),
        instigators,
        refusesImages: types.some((type) => type.procedure !== null && imageRefusingProcedures.includes(type.procedure)),
        can: { update: context.actor ? canOnIncident(context.actor, accessOf(row), 'update') : false },
      };
    },

    async triage(context: AuditContext, id: string, input: TriageInput): Promise<void> {
      const value = parseOrThrow(triageSchema, input);
      await move(
        context,
        id,
        'update',
        { kind: 'triage', illegal: value.illegal, policeAdvice: value.policeAdvice, treatAsIllegal: value.treatAsIllegal },
        async (trx, row, status) => {
          if (value.visibility === 'allegation' && row.visibility !== 'allegation' && !isHeadteacher(context.actor)) {
            throw new AppError('FORBIDDEN', 'Only the headteacher can put an incident on the allegation route');
          }
          const visibility = row.visibility === 'allegation' ? 'allegation' : value.visibility;
          await repository.updateIncident(trx, context.schoolId, id, {
            status,
            severity: value.severity,
            illegal: value.illegal,
            police_advice: value.policeAdvice,
            visibility,
            entered_illegal: status === 'illegal_track' ? 1 : 0,
            entered_internal: status === 'internal_track' ? 1 : 0,
            updated_at: isoNow(clock),
          });
          await history(trx, context, id, 'severity', `Severity set to ${value.severity}`, value.severityReason);
          await history(
            trx,
            context,
            id,
            'triaged',
            `Triaged: illegal material or activity — ${value.illegal}${value.policeAdvice ? ` (police advice: ${value.policeAdvice})` : ''}; ${statusLabels[status]}`,
          );
          if (visibility !== row.visibility)
            await history(
              trx,
              context,
              id,
              'visibility',
              `Visible to ${visibility === 'dsl_only' ? 'the DSL, deputies and headteacher only' : 'online-safety responders'}`,
            );
        },
      );
    },

    /**
     * Adds someone found later, with their own role. A member of staff added as instigator makes the
     * incident an allegation: from then on only the headteacher (and the DSL if shared) sees it.
     */
    async addPerson(
      context: AuditContext,
      id: string,
      input: { personId?: string | null; outsideName?: string | undefined; outsideDescription?: string | undefined; role: string },
    ): Promise<{ becameAllegation: boolean }> {
      const parsed = parseOrThrow(involvedPersonSchema, input);
      const person = parsed.personId ? (await people.getMany(context.schoolId, [parsed.personId])).get(parsed.personId) : undefined;
      if (parsed.personId && !person) throw notFound('person');
      return db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        await repository.insertPeople(trx, [
          {
            school_id: context.schoolId,
            id: newId(),
            incident_id: id,
            person_id: parsed.personId ?? null,
            outside_name: parsed.personId ? null : parsed.outsideName,
            outside_description: parsed.outsideDescription,
            role: parsed.role,
          },
        ]);
        const name = person?.displayName ?? parsed.outsideName ?? 'someone';
        await history(trx, context, id, 'person', `${name} added as ${parsed.role}`);
        const becameAllegation = person?.kind === 'staff' && parsed.role === 'instigator' && row.visibility !== 'allegation';
        if (becameAllegation) {
          await repository.updateIncident(trx, context.schoolId, id, { visibility: 'allegation', dsl_granted: 0, updated_at: isoNow(clock) });
          await history(trx, context, id, 'visibility', 'A member of staff’s conduct is in question: now visible to the headteacher only (allegation route)');
        }
        await audit.record(context, 'incident.person_added', { type: 'incident', id }, { role: parsed.role, becameAllegation }, trx);
        return { becameAllegation };
      });
    },

    /** The type(s) can be corrected until the incident is closed (a pupil's worry is typed at triage). */
    async setTypes(context: AuditContext, id: string, typeIds: string[]): Promise<void> {
      if (typeIds.length === 0) throw invalid('Choose at least one type', [{ field: 'typeIds', message: 'Choose at least one type' }]);
      const types = await typesFor(context.schoolId);
      const chosen = types.filter((type) => typeIds.includes(type.id));
      if (chosen.length !== new Set(typeIds).size) throw invalid('Choose types from the list', [{ field: 'typeIds', message: 'Choose types from the list' }]);
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        if (chosen.some((type) => type.procedure !== null && imageRefusingProcedures.includes(type.procedure))) {
          const held = await repository.evidenceOf(trx, context.schoolId, [id]);
          if (held.some((item) => item.file_id !== null && !safeEvidenceTypes.includes(item.content_type ?? ''))) {
            throw new AppError(
              'CONFLICT',
              'This incident holds evidence files that could be pictures. Tell the DSL before changing its type: such material must not be kept in Haven.',
            );
          }
        }
        await repository.unlinkTypes(trx, context.schoolId, id);
        await repository.linkTypes(
          trx,
          context.schoolId,
          id,
          chosen.map((type) => type.id),
        );
        await repository.updateIncident(trx, context.schoolId, id, { updated_at: isoNow(clock) });
        await history(trx, context, id, 'types', `Type set to ${chosen.map((type) => type.name).join(', ')}`);
        await audit.record(context, 'incident.types_changed', { type: 'incident', id }, { types: chosen.map((type) => type.code) }, trx);
      });
    },

    /** DSL-only or allegation (head and DSL only): recorded with a reason. */
    async setVisibility(context: AuditContext, id: string, visibility: string, reason: string): Promise<void> {
      if (!(['normal', 'dsl_only', 'allegation'] as const).includes(visibility as Visibility))
        throw invalid('Choose who can see the incident', [{ field: 'visibility', message: 'Choose who can see the incident' }]);
      if (!reason.trim()) throw invalid('Give the reason for the change', [{ field: 'visibilityReason', message: 'Give the reason for the change' }]);
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        if (row.visibility === visibility) return;
        // The allegation route is the headteacher's: only they put an incident on it or take it off.
        if ((visibility === 'allegation' || row.visibility === 'allegation') && !isHeadteacher(context.actor)) {
          throw new AppError('FORBIDDEN', 'Only the headteacher can put an incident on the allegation route or take it off');
        }
        await repository.updateIncident(trx, context.schoolId, id, {
          visibility,
          ...(visibility === 'allegation' ? {} : { dsl_granted: 0 }),
          updated_at: isoNow(clock),
        });
        await history(trx, context, id, 'visibility', `Visibility changed from ${row.visibility} to ${visibility}`, reason.trim());
        await audit.record(context, 'incident.visibility_changed', { type: 'incident', id }, { from: row.visibility, to: visibility }, trx);
      });
    },

    /** The headteacher shares an allegation with the DSL (not the deputies), or withdraws it; with a reason. */
    async shareWithDsl(context: AuditContext, id: string, share: boolean, reason: string): Promise<void> {
      if (context.actor?.kind !== 'user' || !context.actor.roles.includes('headteacher'))
        throw new AppError('FORBIDDEN', 'Only the headteacher can share an allegation with the DSL');
      if (!reason.trim()) throw invalid('Give the reason', [{ field: 'shareReason', message: 'Give the reason' }]);
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        if (row.visibility !== 'allegation') throw new AppError('CONFLICT', 'Only an allegation needs sharing: the DSL already sees this incident');
        await repository.updateIncident(trx, context.schoolId, id, { dsl_granted: share ? 1 : 0, updated_at: isoNow(clock) });
        await history(trx, context, id, 'visibility', share ? 'Shared with the DSL' : 'No longer shared with the DSL', reason.trim());
        await audit.record(context, share ? 'incident.shared_with_dsl' : 'incident.unshared_with_dsl', { type: 'incident', id }, {}, trx);
      });
    },

    async changeSeverity(context: AuditContext, id: string, severity: string, reason: string): Promise<void> {
      if (!['low', 'medium', 'high'].includes(severity))
        throw invalid('Choose low, medium or high', [{ field: 'severity', message: 'Choose low, medium or high' }]);
      if (!reason.trim())
        throw invalid('Give the reason for changing the severity', [{ field: 'severityReason', message: 'Give the reason for changing the severity' }]);
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        if (row.severity === severity) return;
        await repository.updateIncident(trx, context.schoolId, id, { severity, updated_at: isoNow(clock) });
        await history(trx, context, id, 'severity', `Severity changed from ${row.severity ?? 'none'} to ${severity}`, reason.trim());
        await audit.record(context, 'incident.severity_changed', { type: 'incident', id }, { from: row.severity, to: severity }, trx);
      });
    },

    /** Records a step as done (who, when, note) or not applicable (why). */
    async recordStep(context: AuditContext, id: string, stepKey: string, outcome: 'done' | 'not_applicable', note: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        const definition = applicableSteps(await factsOf(row, trx)).find((step) => step.key === stepKey);
        if (!definition) throw invalid('That step does not apply to this incident');
        if (outcome === 'not_applicable' && !note.trim())
          throw invalid('Say why the step does not apply', [{ field: `note-${stepKey}`, message: 'Say why the step does not apply' }]);
        if (note.length > 5000) throw invalid('The note must be 5,000 characters or fewer');
        await repository.upsertStep(trx, {
          school_id: context.schoolId,
          incident_id: id,
          step: stepKey,
          outcome,
          note: note.trim() || null,
          recorded_by: context.actor?.kind === 'user' ? context.actor.userId : 'system',
          recorded_by_name: actorName(context.actor),
          recorded_at: isoNow(clock),
        });
        await repository.updateIncident(trx, context.schoolId, id, { updated_at: isoNow(clock) });
        await history(trx, context, id, 'step', `${outcome === 'done' ? 'Done' : 'Not applicable'}: ${definition.label}`, note.trim() || null);
        await audit.record(context, 'incident.step_recorded', { type: 'incident', id }, { step: stepKey, outcome }, trx);
      });
    },

    async notConfirmedIllegal(context: AuditContext, id: string, reason: string): Promise<void> {
      await move(context, id, 'update', { kind: 'not_confirmed_illegal', reason }, async (trx, _row, status) => {
        await repository.updateIncident(trx, context.schoolId, id, { status, entered_internal: 1, updated_at: isoNow(clock) });
        await history(trx, context, id, 'track', 'Not confirmed as illegal: continued on the internal track', reason.trim());
      });
    },

    async startDebrief(context: AuditContext, id: string): Promise<void> {
      await move(context, id, 'update', { kind: 'start_debrief' }, async (trx, _row, status) => {
        await repository.updateIncident(trx, context.schoolId, id, { status, updated_at: isoNow(clock) });
        await history(trx, context, id, 'debrief', 'Moved to debrief');
      });
    },

    async addAction(context: AuditContext, id: string, input: { kind: string; description: string; ownerName: string; dueDate: string }): Promise<void> {
      const fields = [];
      if (!input.description.trim()) fields.push({ field: 'actionDescription', message: 'Describe the action' });
      if (!input.ownerName.trim()) fields.push({ field: 'actionOwner', message: 'Say who owns the action' });
      if (!/^\d{4}-\d{2}-\d{2}$/.test(input.dueDate)) fields.push({ field: 'actionDue', message: 'Enter the due date, like 2026-12-01' });
      if (!['follow_up', 'support', 'policy_change', 'filtering_change', 'training'].includes(input.kind))
        fields.push({ field: 'actionKind', message: 'Choose what kind of action it is' });
      if (fields.length > 0) throw invalid('There is a problem with the action', fields);
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        await repository.insertAction(trx, {
          school_id: context.schoolId,
          id: newId(),
          incident_id: id,
          kind: input.kind,
          description: input.description.trim(),
          owner_name: input.ownerName.trim(),
          owner_user_id: null,
          due_date: input.dueDate,
          done_at: null,
          created_at: isoNow(clock),
        });
        await history(trx, context, id, 'action', `Action added for ${input.ownerName.trim()}, due ${input.dueDate}: ${input.description.trim()}`);
        await audit.record(context, 'incident.action_added', { type: 'incident', id }, { kind: input.kind }, trx);
      });
    },

    async completeAction(context: AuditContext, id: string, actionId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        refuseIfClosed(await loadFor(context, id, 'update', trx));
        if ((await repository.completeAction(trx, context.schoolId, id, actionId, isoNow(clock))) === 0) throw notFound('action');
        await history(trx, context, id, 'action', 'Action completed');
        await audit.record(context, 'incident.action_completed', { type: 'incident', id }, { actionId }, trx);
      });
    },

    /** Policy 000 "Other Incidents": a misuse investigation records a second senior member of staff. */
    async startMisuseInvestigation(context: AuditContext, id: string, secondSeniorStaff: string): Promise<void> {
      if (!secondSeniorStaff.trim())
        throw invalid('Name the second senior member of staff', [{ field: 'secondSeniorStaff', message: 'Name the second senior member of staff involved' }]);
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        await repository.updateIncident(trx, context.schoolId, id, {
          misuse_investigation: 1,
          second_senior_staff: secondSeniorStaff.trim(),
          updated_at: isoNow(clock),
        });
        await history(trx, context, id, 'misuse', `Misuse investigation with ${secondSeniorStaff.trim()} as second senior member of staff`);
        await audit.record(context, 'incident.misuse_investigation', { type: 'incident', id }, {}, trx);
      });
    },

    async close(context: AuditContext, id: string, input: { lessonsLearnt: string; monitoringNote: string }): Promise<void> {
      await move(context, id, 'close', { kind: 'close', lessonsLearnt: input.lessonsLearnt }, async (trx, _row, status) => {
        const now = isoNow(clock);
        await repository.updateIncident(trx, context.schoolId, id, {
          status,
          lessons_learnt: input.lessonsLearnt.trim(),
          monitoring_note: input.monitoringNote.trim() || null,
          closed_at: now,
          updated_at: now,
        });
        await history(trx, context, id, 'closed', 'Closed', input.lessonsLearnt.trim());
      });
    },

    async reopen(context: AuditContext, id: string, reason: string): Promise<void> {
      await move(context, id, 'update', { kind: 'reopen', reason }, async (trx, _row, status) => {
        await repository.updateIncident(trx, context.schoolId, id, { status, closed_at: null, updated_at: isoNow(clock) });
        await history(trx, context, id, 'reopened', 'Reopened', reason.trim());
      });
    },

    /**
     * Evidence: an address, a description, where physical evidence is held — and a file, encrypted at
     * rest. For youth-produced imagery and indecent images, image and video files are refused outright:
     * Haven never holds such material.
     */
    async addEvidence(
      context: AuditContext,
      id: string,
      input: {
        url: string;
        description: string;
        heldWhere: string;
        heldBy: string;
        file?: { name: string; contentType: string | undefined; data: Buffer } | undefined;
      },
    ): Promise<void> {
      const fields = [];
      if (!input.description.trim()) fields.push({ field: 'evidenceDescription', message: 'Describe the evidence' });
      if (input.url && !/^https?:\/\/\S+$/i.test(input.url.trim()))
        fields.push({ field: 'evidenceUrl', message: 'Enter a full web address starting http:// or https://' });
      if (fields.length > 0) throw invalid('There is a problem with the evidence', fields);
      const row = await loadFor(context, id, 'update');
      refuseIfClosed(row);
      let storedFileId: string | null = null;
      try {
        await db.transaction().execute(async (trx) => {
          if (input.file) {
            // Checked inside the transaction, against the types as they are now.
            const types = await repository.typesOfIncidents(trx, context.schoolId, [id]);
            if (types.some((type) => type.procedure !== null && imageRefusingProcedures.includes(type.procedure)) && !isSafeEvidence(input.file)) {
              throw new ImageRefused();
            }
            const stored = await files.store(trx, context.schoolId, {
              fileName: input.file.name,
              contentType: sniffContentType(input.file.data) ?? 'application/octet-stream',
              data: input.file.data,
              createdBy: context.actor?.kind === 'user' ? context.actor.userId : null,
            });
            storedFileId = stored.id;
          }
          await repository.insertEvidence(trx, {
            school_id: context.schoolId,
            id: newId(),
            incident_id: id,
            url: input.url.trim() || null,
            description: input.description.trim(),
            file_id: storedFileId,
            held_where: input.heldWhere.trim() || null,
            held_by: input.heldBy.trim() || null,
            added_by: context.actor?.kind === 'user' ? context.actor.userId : 'system',
            added_by_name: actorName(context.actor),
            added_at: isoNow(clock),
          });
          await history(trx, context, id, 'evidence', `Evidence added: ${input.description.trim().slice(0, 200)}${storedFileId ? ' (file)' : ''}`);
          await audit.record(context, 'incident.evidence_added', { type: 'incident', id }, { file: Boolean(storedFileId) }, trx);
        });
      } catch (error) {
        if (storedFileId) files.discard(context.schoolId, storedFileId);
        if (error instanceof ImageRefused) {
          await audit.record(context, 'incident.evidence_image_refused', { type: 'incident', id });
          throw invalid(
            'Images and videos cannot be uploaded for this incident. It may involve indecent images of a child: do not copy, save or send the images — describe them instead, record where the device is held, and follow the DSL’s and police advice. Only PDF and plain-text files are taken for this type of incident.',
            [{ field: 'evidenceFile', message: 'Only PDF and plain-text files are taken for this type of incident' }],
          );
        }
        throw error;
      }
    },

    /** Opening an evidence file needs a reason, which is audited. */
    async openEvidence(context: AuditContext, id: string, evidenceId: string, reason: string) {
      if (!reason.trim()) throw invalid('Give your reason for opening this file', [{ field: 'reason', message: 'Give your reason for opening this file' }]);
      await loadFor(context, id, 'read');
      const evidence = (await repository.evidenceOf(db, context.schoolId, [id])).find((item) => item.id === evidenceId);
      if (!evidence?.file_id) throw notFound('evidence file');
      const file = await files.read(db, context.schoolId, evidence.file_id);
      await audit.record(context, 'incident.evidence_opened', { type: 'incident', id }, { evidenceId, reason: reason.trim() });
      return file;
    },

    async recordSanction(
      context: AuditContext,
      id: string,
      input: { incidentPersonId: string; ruleId: string | null; actions: string[]; note: string },
    ): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await loadFor(context, id, 'update', trx);
        refuseIfClosed(row);
        const person = (await peopleOf(context.schoolId, [id], trx)).get(id)?.find((entry) => entry.id === input.incidentPersonId);
        if (!person || person.role !== 'instigator') throw notFound('instigator');
        const audience: SanctionAudience = person.kind === 'staff' ? 'staff' : 'pupil';
        const allowedActions: string[] = sanctionColumns[audience].map(([value]) => value);
        if (input.actions.length === 0 || input.actions.some((action) => !allowedActions.includes(action)))
          throw invalid('Choose what was done from the list', [
            { field: `actions-${input.incidentPersonId}`, message: 'Choose at least one action from the list' },
          ]);
        await repository.insertSanction(trx, {
          school_id: context.schoolId,
          id: newId(),
          incident_id: id,
          incident_person_id: input.incidentPersonId,
          rule_id: input.ruleId,
          actions: JSON.stringify(input.actions),
          note: input.note.trim() || null,
          recorded_by_name: actorName(context.actor),
          recorded_at: isoNow(clock),
        });
        await history(
          trx,
          context,
          id,
          'sanction',
          `Actions recorded for ${person.name}: ${input.actions.map((action) => labelOf(audience, action)).join(', ')}`,
          input.note.trim() || null,
        );
        await audit.record(context, 'incident.sanction_recorded', { type: 'incident', id }, { actions: input.actions }, trx);
      });
    },

    /** The incident log (policy 002 columns), filtered to what the actor may see. */
    async log(
      context: AuditContext,
      filter: Omit<repository.LogFilter, 'visibilities'> & { className?: string | undefined },
      page: number,
      pageSize = 50,
      options: { export?: boolean } = {},
    ) {
      if (!context.actor) return { rows: [], total: 0, page, pageSize };
      const personIds = filter.className ? await people.idsInClass(context.schoolId, filter.className) : filter.personIds;
      const { rows, total } = await repository.listLog(
        db,
        context.schoolId,
        { ...filter, personIds, visibilities: visibilitiesFor(context.actor), sharedAllegations: seesSharedAllegations(context.actor) },
        pageSize,
        (page - 1) * pageSize,
      );
      const ids = rows.map((row) => row.id);
      const [types, involved, evidence, actions] = await Promise.all([
        repository.typesOfIncidents(db, context.schoolId, ids),
        peopleOf(context.schoolId, ids),
        repository.evidenceOf(db, context.schoolId, ids),
        repository.actionsOf(db, context.schoolId, ids),
      ]);
      await audit.record(context, options.export ? 'incident_log.exported' : 'incident_log.read', null, {
        page,
        filter: Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)),
        incidents: rows.map((row) => row.reference),
      });
      return {
        rows: rows.map((row) => ({
          incident: row,
          statusLabel: statusLabels[row.status as IncidentStatus],
          types: types.filter((type) => type.incident_id === row.id),
          people: involved.get(row.id) ?? [],
          evidence: evidence.filter((item) => item.incident_id === row.id),
          actions: actions.filter((item) => item.incident_id === row.id),
        })),
        total,
        page,
        pageSize,
      };
    },

    /** Everything about a person in time order: incidents now; later issues add alerts, agreements and consents. */
    async chronology(context: AuditContext, personId: string) {
      const person = await people.get(context.schoolId, personId);
      if (!context.actor) return { person, entries: [] };
      const { rows } = await repository.listLog(
        db,
        context.schoolId,
        { personIds: [personId], visibilities: visibilitiesFor(context.actor), sharedAllegations: seesSharedAllegations(context.actor) },
        500,
        0,
      );
      const involved = await peopleOf(
        context.schoolId,
        rows.map((row) => row.id),
      );
      const types = await repository.typesOfIncidents(
        db,
        context.schoolId,
        rows.map((row) => row.id),
      );
      await audit.read(context, 'chronology', personId);
      return {
        person,
        entries: rows.map((row) => ({
          at: row.occurred_at,
          kind: 'incident' as const,
          incidentId: row.id,
          reference: row.reference,
          statusLabel: statusLabels[row.status as IncidentStatus],
          severity: row.severity,
          role: (involved.get(row.id) ?? []).filter((entry) => entry.personId === personId).map((entry) => entry.role),
          types: types.filter((type) => type.incident_id === row.id).map((type) => type.name),
        })),
      };
    },

    /** The DSL / e-safety lead panel: new, urgent, open by state, overdue actions. */
    async dashboard(context: AuditContext) {
      if (!context.actor) return null;
      const access = { visibilities: visibilitiesFor(context.actor), sharedAllegations: seesSharedAllegations(context.actor) };
      if (access.visibilities.length === 0 && !access.sharedAllegations) return null;
      const [counts, overdue] = await Promise.all([
        repository.countsByStatus(db, context.schoolId, access),
        repository.overdueActions(db, context.schoolId, access, isoNow(clock).slice(0, 10)),
      ]);
      const byStatus: Record<string, number> = {};
      let urgent = 0;
      for (const row of counts) {
        byStatus[row.status] = (byStatus[row.status] ?? 0) + Number(row.n);
        if (row.urgent === 1) urgent += Number(row.n);
      }
      return {
        newCount: byStatus.reported ?? 0,
        urgentOpen: urgent,
        byStatus: Object.entries(statusLabels)
          .filter(([status]) => status !== 'closed')
          .map(([status, label]) => ({ status, label, count: byStatus[status] ?? 0 })),
        overdue,
      };
    },

    async recordReview(
      context: AuditContext,
      input: { periodFrom: string; periodTo: string; reviewerName: string; reviewerRole: string; reviewedOn: string; comments: string },
    ): Promise<void> {
      const fields = [];
      for (const [name, value] of [
        ['periodFrom', input.periodFrom],
        ['periodTo', input.periodTo],
        ['reviewedOn', input.reviewedOn],
      ] as const) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) fields.push({ field: name, message: 'Enter a date like 2026-12-15' });
      }
      if (!input.reviewerName.trim()) fields.push({ field: 'reviewerName', message: 'Enter the reviewer’s name' });
      if (!['headteacher', 'slt', 'chair_of_governors'].includes(input.reviewerRole))
        fields.push({ field: 'reviewerRole', message: 'Choose headteacher, SLT member or chair of governors (policy 002)' });
      if (fields.length > 0) throw invalid('There is a problem with the review', fields);
      await db.transaction().execute(async (trx) => {
        const reviewId = newId();
        await repository.insertReview(trx, {
          school_id: context.schoolId,
          id: reviewId,
          period_from: input.periodFrom,
          period_to: input.periodTo,
          reviewer_name: input.reviewerName.trim(),
          reviewer_role: input.reviewerRole,
          reviewed_on: input.reviewedOn,
          comments: input.comments.trim() || null,
          recorded_by: actorName(context.actor),
          created_at: isoNow(clock),
        });
        await audit.record(context, 'incident_log.reviewed', { type: 'incident_log_review', id: reviewId }, {}, trx);
      });
    },

    reviews: (schoolId: string) => repository.listReviews(db, schoolId),

    /** Policy 000's actions & sanctions tables as this school has them. */
    async sanctionTables(schoolId: string) {
      await typesFor(schoolId);
      const rules = await repository.sanctionRules(db, schoolId);
      const tables = (['pupil', 'staff'] as const).map((audience) => ({
        audience,
        columns: sanctionColumns[audience].map(([value, text]) => ({ value, text })),
        rules: rules
          .filter((rule) => rule.audience === audience)
          .map((rule) => ({
            id: rule.id,
            offence: rule.offence,
            actions: JSON.parse(rule.actions) as string[],
            typeCodes: JSON.parse(rule.type_codes) as string[],
          })),
      }));
      return tables;
    },

    /** Adds a row (no id) or changes one; a row is never deleted, only retired. */
    async saveSanctionRule(
      context: AuditContext,
      input: { id?: string | undefined; audience: string; offence: string; actions: string[]; typeCodes: string[] },
    ): Promise<void> {
      if (input.audience !== 'pupil' && input.audience !== 'staff') throw invalid('Choose the pupils’ or the staff table');
      const audience: SanctionAudience = input.audience;
      const allowedActions: string[] = sanctionColumns[audience].map(([value]) => value);
      const types = await typesFor(context.schoolId);
      const fields = [];
      if (!input.offence.trim() || input.offence.length > 300)
        fields.push({ field: `offence-${input.id ?? 'new'}`, message: 'Describe the incident (up to 300 characters)' });
      if (input.actions.length === 0 || input.actions.some((action) => !allowedActions.includes(action)))
        fields.push({ field: `actions-${input.id ?? 'new'}`, message: 'Choose at least one action from the columns' });
      if (input.typeCodes.some((code) => code !== '*' && !types.some((type) => type.code === code)))
        fields.push({ field: `types-${input.id ?? 'new'}`, message: 'Choose types from the list' });
      if (fields.length > 0) throw invalid('There is a problem with the row', fields);
      const values = { offence: input.offence.trim(), actions: JSON.stringify(input.actions), type_codes: JSON.stringify(input.typeCodes) };
      if (input.id) {
        if ((await repository.updateSanctionRule(db, context.schoolId, input.id, audience, values)) === 0) throw notFound('row');
        await audit.record(context, 'sanction_rule.changed', { type: 'sanction_rule', id: input.id }, { actions: input.actions });
      } else {
        const id = newId();
        const count = (await repository.sanctionRules(db, context.schoolId)).length;
        await repository.insertSanctionRules(db, [{ school_id: context.schoolId, id, audience, sort: count, retired_at: null, ...values }]);
        await audit.record(context, 'sanction_rule.added', { type: 'sanction_rule', id }, { audience });
      }
    },

    async retireSanctionRule(context: AuditContext, id: string): Promise<void> {
      const rule = (await repository.sanctionRules(db, context.schoolId)).find((candidate) => candidate.id === id);
      if (!rule || (await repository.updateSanctionRule(db, context.schoolId, id, rule.audience, { retired_at: isoNow(clock) })) === 0) throw notFound('row');
      await audit.record(context, 'sanction_rule.retired', { type: 'sanction_rule', id });
    },

    // Per-school types: add, rename, retire — never delete one in use.
    async addType(context: AuditContext, name: string): Promise<void> {
      const trimmed = name.trim();
      if (!trimmed || trimmed.length > 100)
        throw invalid('Enter the name of the type (up to 100 characters)', [{ field: 'name', message: 'Enter the name of the type (up to 100 characters)' }]);
      const types = await typesFor(context.schoolId);
      const code = `custom_${trimmed
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .slice(0, 40)}_${types.length}`;
      await repository.insertTypes(db, [
        { school_id: context.schoolId, id: newId(), code, name: trimmed, procedure: null, sort: types.length, retired_at: null, created_at: isoNow(clock) },
      ]);
      await audit.record(context, 'incident_type.added', null, { name: trimmed });
    },

    async renameType(context: AuditContext, typeId: string, name: string): Promise<void> {
      const trimmed = name.trim();
      if (!trimmed || trimmed.length > 100)
        throw invalid('Enter the new name (up to 100 characters)', [{ field: `name-${typeId}`, message: 'Enter the new name (up to 100 characters)' }]);
      if ((await repository.updateType(db, context.schoolId, typeId, { name: trimmed })) === 0) throw notFound('type');
      await audit.record(context, 'incident_type.renamed', { type: 'incident_type', id: typeId }, { name: trimmed });
    },

    async setTypeRetired(context: AuditContext, typeId: string, retired: boolean): Promise<void> {
      if ((await repository.updateType(db, context.schoolId, typeId, { retired_at: retired ? isoNow(clock) : null })) === 0) throw notFound('type');
      await audit.record(context, retired ? 'incident_type.retired' : 'incident_type.restored', { type: 'incident_type', id: typeId });
    },
  };
}

class ImageRefused extends Error {}

/** For sexual-imagery types: only files whose bytes are PDF or plain text, whatever the name or declared type says. */
function isSafeEvidence(file: { name: string; contentType: string | undefined; data: Buffer }): boolean {
  const sniffed = sniffContentType(file.data);
  return sniffed !== null && safeEvidenceTypes.includes(sniffed) && !isImageOrVideo(file.data, file.contentType, file.name);
}

function isHeadteacher(actor: Actor | undefined): boolean {
  return actor?.kind === 'user' && actor.roles.includes('headteacher');
}

function accessOf(row: IncidentTable): { visibility: Visibility; dslGranted: boolean } {
  return { visibility: row.visibility as Visibility, dslGranted: row.dsl_granted === 1 };
}

function labelOf(audience: SanctionAudience, action: string): string {
  return (sanctionColumns[audience] as ReadonlyArray<readonly [string, string]>).find(([value]) => value === action)?.[1] ?? action;
}

export type IncidentService = ReturnType<typeof createIncidentService>;
