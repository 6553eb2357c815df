import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import { serialise } from '../../db/locks.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import type { Mailer } from '../../platform/mail.js';
import type { SchoolService } from '../../platform/schools/service.js';
import type { Person, PeopleService } from '../people/service.js';
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
  { code: 'remote_learning', name: 'Remote learning (live lessons from home)' },
];

/** The remote-learning terms parents agree to (policy 000 appendix 5), in Haven's words; schools edit them. */
export const remoteLearningTerms = `Live lessons happen during the school day, and staff join only from school devices and school accounts. Lessons are not recorded.

- Please have your child ready at the start time, dressed as they would be for a school trip, in a shared room of the home (not a bedroom), with a plain background behind them.
- Keep the camera steady and pointing at your child's head and shoulders.
- Staff do not hold one-to-one calls. Where one has been agreed for a child with special educational needs, an adult from the family stays in the room and in view.
- Please make sure nobody interrupts the lesson or uses unsuitable language while the microphone is on.
- If anything worries you or your child during a lesson, tell the class teacher or the designated safeguarding lead.`;

const defaultTerms: Record<string, string> = { remote_learning: remoteLearningTerms };

export const decisions = ['given', 'refused', 'withdrawn'] as const;
export type Decision = (typeof decisions)[number];
export const methods = ['link', 'paper', 'in_person'] as const;

export type ConsentState = 'allowed' | 'not_allowed' | 'awaiting' | 'under_review';

export const stateLabels: Record<ConsentState, string> = { allowed: 'Yes', not_allowed: 'No', awaiting: 'Not yet', under_review: 'Check first' };

/** What a parent can do through a consent link (their own child, their own decisions). */
export interface ParentLinks {
  issue: (context: AuditContext, pupilId: string, parentId: string, purpose: 'consents') => Promise<string>;
  check: (token: string, purpose: 'consents') => Promise<{ schoolId: string; link: { id: string }; pupil: Person; parent: Person }>;
  spend: (trx: DbOrTrx, schoolId: string, linkId: string) => Promise<boolean>;
}

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

export function createConsentService(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  people: PeopleService;
  schools: SchoolService;
  mailer: Mailer;
  links: ParentLinks;
}) {
  const { handle, clock, audit, people, schools, mailer, links } = deps;
  const { db } = handle;

  /** The school's purposes; defaults the school has never had are added (a retired one stays retired). */
  async function purposes(schoolId: string) {
    let rows = await repository.purposes(db, schoolId);
    const missing = defaultPurposes.filter((purpose) => !rows.some((row) => row.code === purpose.code));
    if (missing.length > 0) {
      const start = rows.length;
      await repository.insertPurposes(
        db,
        missing.map((purpose, index) => ({
          school_id: schoolId,
          id: newId(),
          code: purpose.code,
          name: purpose.name,
          sort: start + index,
          retired_at: null,
          terms: defaultTerms[purpose.code] ?? null,
        })),
      );
      rows = await repository.purposes(db, schoolId);
    }
    return rows.filter((row) => row.retired_at === null);
  }

  /** Records one decision (caller's transaction): serialised per pupil so the order is certain. */
  async function insertDecision(
    trx: DbOrTrx,
    context: AuditContext,
    input: { pupilId: string; purposeId: string; parentId: string; decision: Decision; method: string; note?: string | undefined },
  ): Promise<void> {
    await serialise(trx, handle.dialect, `consent:${input.pupilId}`);
    await repository.insertDecision(trx, {
      school_id: context.schoolId,
      id: newId(),
      pupil_id: input.pupilId,
      purpose_id: input.purposeId,
      parent_id: input.parentId,
      seq: await repository.nextSeq(trx, context.schoolId, input.pupilId),
      decision: input.decision,
      method: input.method,
      recorded_at: isoNow(clock),
      recorded_by: context.actor?.kind === 'user' ? context.actor.userId : null,
      note: input.note?.trim().slice(0, 500) || null,
    });
    await audit.record(
      context,
      `consent.${input.decision}`,
      { type: 'person', id: input.pupilId },
      { purposeId: input.purposeId, parentId: input.parentId, method: input.method },
      trx,
    );
  }

  async function states(schoolId: string, pupilIds: string[]) {
    const [list, school, decisionRows, reviews] = await Promise.all([
      purposes(schoolId),
      schools.get(schoolId),
      repository.decisionsFor(db, schoolId, pupilIds),
      repository.openReviews(db, schoolId, pupilIds),
    ]);
    const underReview = new Set(reviews.map((review) => review.pupil_id));
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
      // While a change of circumstances is reviewed, nobody may use the pupil's image: "check first".
      stateOf: (pupilId: string, purposeId: string): ConsentState =>
        underReview.has(pupilId)
          ? 'under_review'
          : consentState(latest.get(`${pupilId}:${purposeId}`) ?? new Map(), guardians.get(pupilId) ?? [], school.settings.consentNeedsEveryParent),
      latest,
      reviews,
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
      await db.transaction().execute((trx) => insertDecision(trx, context, { ...input, decision: input.decision as Decision }));
    },

    /** Every purpose, retired ones too, for the purposes page. */
    async allPurposes(schoolId: string) {
      await purposes(schoolId);
      return repository.purposes(db, schoolId);
    },

    /** A school adds a purpose of its own (for example a local newspaper partnership), with optional terms. */
    async addPurpose(context: AuditContext, input: { name: string; terms: string }): Promise<void> {
      const name = input.name.trim();
      if (!name || name.length > 100) throw invalid('Name the purpose', [{ field: 'name', message: 'Name the purpose in 100 characters or fewer' }]);
      if (input.terms.length > 5000)
        throw invalid('Terms must be 5,000 characters or fewer', [{ field: 'terms', message: 'Terms must be 5,000 characters or fewer' }]);
      const existing = await repository.purposes(db, context.schoolId);
      const base =
        name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '_')
          .replace(/^_|_$/g, '')
          .slice(0, 40) || 'purpose';
      let code = base;
      for (let n = 2; existing.some((row) => row.code === code); n += 1) code = `${base}_${n}`;
      if (existing.some((row) => row.retired_at === null && row.name.toLowerCase() === name.toLowerCase()))
        throw invalid('There is already a purpose with that name', [{ field: 'name', message: 'There is already a purpose with that name' }]);
      await db.transaction().execute(async (trx) => {
        await repository.insertPurposes(trx, [
          { school_id: context.schoolId, id: newId(), code, name, sort: existing.length, retired_at: null, terms: input.terms.trim() || null },
        ]);
        await audit.record(context, 'consent.purpose_added', null, { code, name }, trx);
      });
    },

    /** Retires a purpose: it leaves the grid and the parents' form; its decisions stay on record. */
    async retirePurpose(context: AuditContext, purposeId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if ((await repository.retirePurpose(trx, context.schoolId, purposeId, isoNow(clock))) === 0) throw notFound('purpose');
        await audit.record(context, 'consent.purpose_retired', null, { purposeId }, trx);
      });
    },

    /**
     * Many decisions at once (the demo school; bringing records over from a spreadsheet): each is
     * checked as one recorded by hand, and all are written in one transaction or none.
     */
    async recordMany(
      context: AuditContext,
      inputs: ReadonlyArray<{ pupilId: string; purposeId: string; parentId: string; decision: Decision; method: string; note?: string }>,
    ): Promise<number> {
      const known = new Set((await purposes(context.schoolId)).map((purpose) => purpose.id));
      const responsible = new Map<string, Set<string>>();
      for (const [index, input] of inputs.entries()) {
        if (!responsible.has(input.pupilId)) {
          const guardians = await people.guardiansOf(context.schoolId, input.pupilId);
          responsible.set(input.pupilId, new Set(guardians.filter((guardian) => guardian.parentalResponsibility).map((guardian) => guardian.id)));
        }
        const where = `Decision ${index + 1}`;
        if (!(decisions as readonly string[]).includes(input.decision)) throw invalid(`${where}: choose given, refused or withdrawn`);
        if (!(methods as readonly string[]).includes(input.method)) throw invalid(`${where}: choose how the decision was given`);
        if (!known.has(input.purposeId)) throw invalid(`${where}: unknown purpose`);
        if (!responsible.get(input.pupilId)!.has(input.parentId)) throw invalid(`${where}: only a parent or carer with parental responsibility can decide`);
      }
      await db.transaction().execute(async (trx) => {
        const seqs = new Map<string, number>();
        for (const input of inputs) {
          if (!seqs.has(input.pupilId)) await serialise(trx, handle.dialect, `consent:${input.pupilId}`);
          const seq = seqs.get(input.pupilId) ?? (await repository.nextSeq(trx, context.schoolId, input.pupilId));
          seqs.set(input.pupilId, seq + 1);
          await repository.insertDecision(trx, {
            school_id: context.schoolId,
            id: newId(),
            pupil_id: input.pupilId,
            purpose_id: input.purposeId,
            parent_id: input.parentId,
            seq,
            decision: input.decision,
            method: input.method,
            recorded_at: isoNow(clock),
            recorded_by: context.actor?.kind === 'user' ? context.actor.userId : null,
            note: input.note?.trim().slice(0, 500) || null,
          });
        }
        await audit.record(context, 'consent.recorded_many', null, { decisions: inputs.length }, trx);
      });
      return inputs.length;
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
      const { purposes: list, stateOf, latest, reviews } = await states(schoolId, [pupilId]);
      return {
        pupil,
        guardians,
        review: reviews[0] ?? null,
        purposes: list.map((purpose) => ({
          purpose,
          state: stateOf(pupilId, purpose.id),
          decisions: guardians.map((guardian) => ({ guardian, decision: latest.get(`${pupilId}:${purpose.id}`)?.get(guardian.id) ?? null })),
        })),
      };
    },

    /** "Circumstances changed" (e.g. custody): the pupil shows as "check first" everywhere until reviewed. */
    async flagReview(context: AuditContext, pupilId: string, reason: string): Promise<void> {
      const text = reason.trim();
      if (!text || text.length > 500)
        throw invalid('Say what has changed', [{ field: 'reason', message: 'Say briefly what has changed (500 characters or fewer)' }]);
      const pupil = await people.get(context.schoolId, pupilId);
      if (pupil.kind !== 'pupil') throw notFound('pupil');
      await db.transaction().execute(async (trx) => {
        await serialise(trx, handle.dialect, `consent:${pupilId}`);
        if ((await repository.openReviews(trx, context.schoolId, [pupilId])).length > 0)
          throw new AppError('CONFLICT', 'This pupil’s consents are already flagged for review');
        await repository.insertReview(trx, {
          school_id: context.schoolId,
          id: newId(),
          pupil_id: pupilId,
          reason: text,
          flagged_at: isoNow(clock),
          flagged_by: context.actor?.kind === 'user' ? context.actor.userId : null,
          resolved_at: null,
          resolved_by: null,
          resolution: null,
        });
        await audit.record(context, 'consent.review_flagged', { type: 'person', id: pupilId }, {}, trx);
      });
    },

    async resolveReview(context: AuditContext, pupilId: string, resolution: string): Promise<void> {
      const text = resolution.trim();
      if (!text || text.length > 500)
        throw invalid('Say what was decided', [{ field: 'resolution', message: 'Say what was checked and decided (500 characters or fewer)' }]);
      await db.transaction().execute(async (trx) => {
        const changed = await repository.resolveReviews(trx, context.schoolId, pupilId, {
          resolved_at: isoNow(clock),
          resolved_by: context.actor?.kind === 'user' ? context.actor.userId : null,
          resolution: text,
        });
        if (changed === 0) throw notFound('consent review');
        await audit.record(context, 'consent.review_resolved', { type: 'person', id: pupilId }, {}, trx);
      });
    },

    /**
     * Sends a parent with parental responsibility a single-use link to see and change their own
     * decisions for this child: by email when the school holds an address; the link is also returned
     * so the office can print it.
     */
    async sendLink(context: AuditContext, pupilId: string, parentId: string): Promise<{ url: string; emailedTo: string | null }> {
      const pupil = await people.get(context.schoolId, pupilId);
      if (pupil.kind !== 'pupil') throw notFound('pupil');
      const url = await links.issue(context, pupilId, parentId, 'consents');
      const parent = await people.get(context.schoolId, parentId);
      if (parent.email) {
        await mailer.send({
          schoolId: context.schoolId,
          to: parent.email,
          subject: `Photographs and video of ${pupil.preferredFirstName ?? pupil.legalFirstName}: your choices`,
          text: `You can see and change where the school may use photographs and video of your child here (the link works once, for 30 days):
${url}

You can change your mind at any time; a withdrawal takes effect at once.`,
          secret: { value: url, keepUntilSent: false },
        });
      }
      return { url, emailedTo: parent.email };
    },

    /** What a parent sees through their consent link: their own decisions for their own child. */
    async openLink(token: string) {
      const opened = await links.check(token, 'consents');
      const { purposes: list, stateOf, latest } = await states(opened.schoolId, [opened.pupil.id]);
      return {
        ...opened,
        purposes: list.map((purpose) => ({
          purpose,
          mine: latest.get(`${opened.pupil.id}:${purpose.id}`)?.get(opened.parent.id) ?? null,
          state: stateOf(opened.pupil.id, purpose.id),
        })),
      };
    },

    /**
     * A parent's choices through their link: yes gives consent, no refuses it (or withdraws one given
     * before). Only changes are recorded; the link is spent in the same transaction.
     */
    async submitLink(
      token: string,
      input: { choices: Record<string, string>; fullName: string; ip: string | undefined },
    ): Promise<{ changed: number; pupilName: string }> {
      const opened = await this.openLink(token);
      const fields = [];
      if (!input.fullName.trim() || input.fullName.length > 100) fields.push({ field: 'fullName', message: 'Type your full name' });
      const changes: Array<{ purposeId: string; decision: Decision }> = [];
      for (const entry of opened.purposes) {
        const choice = input.choices[entry.purpose.id] ?? '';
        if (choice !== 'yes' && choice !== 'no') {
          fields.push({ field: `purpose-${entry.purpose.id}`, message: `Choose yes or no for ${entry.purpose.name}` });
          continue;
        }
        const decision: Decision = choice === 'yes' ? 'given' : entry.mine === 'given' ? 'withdrawn' : 'refused';
        const unchanged = choice === 'yes' ? entry.mine === 'given' : entry.mine === 'refused' || entry.mine === 'withdrawn';
        if (!unchanged) changes.push({ purposeId: entry.purpose.id, decision });
      }
      if (fields.length > 0) throw invalid('There is a problem with your answers', fields);
      const context: AuditContext = { schoolId: opened.schoolId, ip: input.ip };
      await db.transaction().execute(async (trx) => {
        if (!(await links.spend(trx, opened.schoolId, opened.link.id))) throw new AppError('NOT_FOUND', 'This link has already been used.');
        for (const change of changes) {
          await insertDecision(trx, context, {
            pupilId: opened.pupil.id,
            purposeId: change.purposeId,
            parentId: opened.parent.id,
            decision: change.decision,
            method: 'link',
            note: `Online, signed ${input.fullName.trim()}`,
          });
        }
      });
      return { changed: changes.length, pupilName: opened.pupil.displayName };
    },

    /** Consent decisions and reviews for a pupil's chronology, oldest first. */
    async historyOf(schoolId: string, pupilId: string) {
      const [list, decisionRows, reviews, guardians] = await Promise.all([
        repository.purposes(db, schoolId),
        repository.decisionsFor(db, schoolId, [pupilId]),
        repository.reviewsOf(db, schoolId, pupilId),
        people.guardiansOf(schoolId, pupilId),
      ]);
      const purposeName = (id: string) => list.find((purpose) => purpose.id === id)?.name ?? 'a purpose';
      const parentName = (id: string) => guardians.find((guardian) => guardian.id === id)?.displayName ?? 'a parent or carer';
      const verbs: Record<string, string> = { given: 'gave consent', refused: 'refused consent', withdrawn: 'withdrew consent' };
      return [
        ...decisionRows.map((row) => ({
          at: row.recorded_at,
          text: `${parentName(row.parent_id)} ${verbs[row.decision] ?? row.decision} for ${purposeName(row.purpose_id)} (${row.method.replace('_', ' ')})`,
        })),
        ...reviews.flatMap((review) => [
          { at: review.flagged_at, text: `Consents flagged for review: ${review.reason}` },
          ...(review.resolved_at ? [{ at: review.resolved_at, text: `Consent review completed: ${review.resolution ?? ''}` }] : []),
        ]),
      ].sort((a, b) => a.at.localeCompare(b.at));
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
