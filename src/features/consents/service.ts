import type { DatabaseHandle } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import { serialise } from '../../db/locks.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { invalid, notFound } from '../../platform/errors.js';
import type { SchoolService } from '../../platform/schools/service.js';
import type { PeopleService } from '../people/service.js';
import * as repository from './repository.js';

/** Policies 001, 002, 003 §7: consent for images by purpose. Defaults; schools add their own. */
export const defaultPurposes: ReadonlyArray<{ code: string; name: string }> = [
  { code: 'website', name: 'School website' },
  { code: 'learning_platform', name: 'Learning platform (VLE)' },
  { code: 'prospectus', name: 'Prospectus and printed material' },
  { code: 'video_conference', name: 'Video or webcam in an educational conference' },
  { code: 'display_inside', name: 'Displays inside school' },
  { code: 'display_outside', name: 'Displays outside school (exhibitions)' },
  { code: 'press', name: 'Press and media' },
  { code: 'social_media', name: 'The school’s official social media' },
];

export const decisions = ['given', 'refused', 'withdrawn'] as const;
export type Decision = (typeof decisions)[number];
export const methods = ['link', 'paper', 'in_person'] as const;

export type ConsentState = 'allowed' | 'not_allowed' | 'awaiting';

/**
 * Whether a pupil may appear for a purpose: a refusal or withdrawal by any parent with parental
 * responsibility stops it at once; otherwise one parent's consent is enough, or every parent's when
 * the school asks for that (policy 001).
 */
export function consentState(
  latestByParent: ReadonlyMap<string, Decision>,
  parentsWithResponsibility: readonly string[],
  needsEveryParent: boolean,
): ConsentState {
  const decided = parentsWithResponsibility.map((parentId) => latestByParent.get(parentId));
  if (decided.some((decision) => decision === 'refused' || decision === 'withdrawn')) return 'not_allowed';
  if (needsEveryParent) return decided.length > 0 && decided.every((decision) => decision === 'given') ? 'allowed' : 'awaiting';
  return decided.some((decision) => decision === 'given') ? 'allowed' : 'awaiting';
}

export function createConsentService(deps: { handle: DatabaseHandle; clock: () => Date; audit: AuditService; people: PeopleService; schools: SchoolService }) {
  const { handle, clock, audit, people, schools } = deps;
  const { db } = handle;

  async function purposes(schoolId: string) {
    let rows = await repository.purposes(db, schoolId);
    if (rows.length === 0) {
      await repository.insertPurposes(
        db,
        defaultPurposes.map((purpose, index) => ({ school_id: schoolId, id: newId(), code: purpose.code, name: purpose.name, sort: index, retired_at: null })),
      );
      rows = await repository.purposes(db, schoolId);
    }
    return rows.filter((row) => row.retired_at === null);
  }

  async function states(schoolId: string, pupilIds: string[]) {
    const [list, school, decisionRows] = await Promise.all([purposes(schoolId), schools.get(schoolId), repository.decisionsFor(db, schoolId, pupilIds)]);
    const guardians = new Map<string, string[]>();
    for (const pupilId of pupilIds) {
      guardians.set(
        pupilId,
        (await people.guardiansOf(schoolId, pupilId)).filter((guardian) => guardian.parentalResponsibility).map((guardian) => guardian.id),
      );
    }
    // Rows come in order, so later decisions overwrite earlier ones.
    const latest = new Map<string, Map<string, Decision>>();
    for (const row of decisionRows) {
      const key = `${row.pupil_id}:${row.purpose_id}`;
      if (!latest.has(key)) latest.set(key, new Map());
      latest.get(key)!.set(row.parent_id, row.decision as Decision);
    }
    return {
      purposes: list,
      stateOf: (pupilId: string, purposeId: string) =>
        consentState(latest.get(`${pupilId}:${purposeId}`) ?? new Map(), guardians.get(pupilId) ?? [], school.settings.consentNeedsEveryParent),
      latest,
    };
  }

  return {
    purposes,

    /** Records a parent's decision; a withdrawal takes effect at once. Parental responsibility is required. */
    async record(
      context: AuditContext,
      input: { pupilId: string; purposeId: string; parentId: string; decision: string; method: string; note?: string | undefined },
    ): Promise<void> {
      if (!(decisions as readonly string[]).includes(input.decision))
        throw invalid('Choose given, refused or withdrawn', [{ field: 'decision', message: 'Choose given, refused or withdrawn' }]);
      if (!(methods as readonly string[]).includes(input.method))
        throw invalid('Choose how the decision was given', [{ field: 'method', message: 'Choose how the decision was given' }]);
      const pupil = await people.get(context.schoolId, input.pupilId);
      if (pupil.kind !== 'pupil') throw notFound('pupil');
      if (!(await purposes(context.schoolId)).some((purpose) => purpose.id === input.purposeId))
        throw invalid('Choose a purpose from the list', [{ field: 'purposeId', message: 'Choose a purpose from the list' }]);
      const guardians = await people.guardiansOf(context.schoolId, input.pupilId);
      if (!guardians.some((guardian) => guardian.id === input.parentId && guardian.parentalResponsibility)) {
        throw invalid('Only a parent or carer with parental responsibility can give or withdraw consent', [
          { field: 'parentId', message: 'Choose a parent or carer with parental responsibility' },
        ]);
      }
      await db.transaction().execute(async (trx) => {
        await serialise(trx, handle.dialect, `consent:${input.pupilId}`);
        const id = newId();
        await repository.insertDecision(trx, {
          school_id: context.schoolId,
          id,
          pupil_id: input.pupilId,
          purpose_id: input.purposeId,
          parent_id: input.parentId,
          seq: await repository.nextSeq(trx, context.schoolId, input.pupilId),
          decision: input.decision,
          method: input.method,
          recorded_at: isoNow(clock),
          recorded_by: context.actor?.kind === 'user' ? context.actor.userId : null,
          note: input.note?.trim() || null,
        });
        await audit.record(
          context,
          `consent.${input.decision}`,
          { type: 'person', id: input.pupilId },
          { purposeId: input.purposeId, parentId: input.parentId, method: input.method },
          trx,
        );
      });
    },

    /** The "check before you post" grid: for a class, who may appear where. */
    async grid(schoolId: string, className: string) {
      const pupils = (await people.list(schoolId, { kind: 'pupil', status: 'current' }, 1, 5000)).people.filter((pupil) => pupil.className === className);
      const { purposes: list, stateOf } = await states(
        schoolId,
        pupils.map((pupil) => pupil.id),
      );
      return {
        purposes: list,
        rows: pupils
          .sort((a, b) => a.legalLastName.localeCompare(b.legalLastName))
          .map((pupil) => ({ pupil, cells: list.map((purpose) => ({ purposeId: purpose.id, state: stateOf(pupil.id, purpose.id) })) })),
      };
    },

    /** One pupil's consents, with every parent's latest decision per purpose. */
    async forPupil(schoolId: string, pupilId: string) {
      const pupil = await people.get(schoolId, pupilId);
      if (pupil.kind !== 'pupil') throw notFound('pupil');
      const guardians = (await people.guardiansOf(schoolId, pupilId)).filter((guardian) => guardian.parentalResponsibility);
      const { purposes: list, stateOf, latest } = await states(schoolId, [pupilId]);
      return {
        pupil,
        guardians,
        purposes: list.map((purpose) => ({
          purpose,
          state: stateOf(pupilId, purpose.id),
          decisions: guardians.map((guardian) => ({ guardian, decision: latest.get(`${pupilId}:${purpose.id}`)?.get(guardian.id) ?? null })),
        })),
      };
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
