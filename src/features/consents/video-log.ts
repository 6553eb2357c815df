import type { Insertable, Updateable } from 'kysely';
import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import { serialise } from '../../db/locks.js';
import type { VideoConferenceTable } from '../../db/schema.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import type { NotificationService } from '../../platform/notifications/service.js';
import type { UserService } from '../../platform/users/service.js';
import type { PeopleService, Person } from '../people/service.js';
import type { ConsentService } from './service.js';

/**
 * The video-conference log (policies 001, 002, 004 §7.9): staff ask, the headteacher approves
 * beforehand; a recorded conference needs the video-conference consent of every pupil taking part
 * and the written consent of the adults; afterwards it is marked held.
 */

export const conferenceStatuses = ['requested', 'approved', 'declined', 'held', 'cancelled'] as const;
export type ConferenceStatus = (typeof conferenceStatuses)[number];

export const conferenceStatusLabels: Record<ConferenceStatus, string> = {
  requested: 'Waiting for the headteacher',
  approved: 'Approved',
  declined: 'Declined',
  held: 'Held',
  cancelled: 'Cancelled',
};

// Pupils are named in surname order, the same on every page and in every message (the rows come back in id order).
const byName = (a: Person, b: Person) => a.legalLastName.localeCompare(b.legalLastName) || a.displayName.localeCompare(b.displayName);

// Repository: the feature's own SQL.
const repository = {
  list: (db: DbOrTrx, schoolId: string, filter: { status?: string; from?: string; to?: string }) => {
    let query = db.selectFrom('video_conferences').selectAll().where('school_id', '=', schoolId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.from) query = query.where('starts_at', '>=', filter.from);
    if (filter.to) query = query.where('starts_at', '<', filter.to);
    return query.orderBy('starts_at', 'desc').limit(500).execute();
  },
  find: (db: DbOrTrx, schoolId: string, id: string) =>
    db.selectFrom('video_conferences').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst(),
  pupilsOf: (db: DbOrTrx, schoolId: string, ids: string[]) =>
    ids.length === 0
      ? Promise.resolve([])
      : db.selectFrom('video_conference_pupils').selectAll().where('school_id', '=', schoolId).where('conference_id', 'in', ids).execute(),
  count: async (db: DbOrTrx, schoolId: string) =>
    Number(
      (
        await db
          .selectFrom('video_conferences')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('school_id', '=', schoolId)
          .executeTakeFirst()
      )?.count ?? 0,
    ),
  insert: async (db: DbOrTrx, row: Insertable<VideoConferenceTable>, pupilIds: string[]) => {
    await db.insertInto('video_conferences').values(row).execute();
    if (pupilIds.length > 0)
      await db
        .insertInto('video_conference_pupils')
        .values(pupilIds.map((pupilId) => ({ school_id: row.school_id, conference_id: row.id, pupil_id: pupilId })))
        .execute();
  },
  /** Moves a conference on only from the status the caller saw. */
  update: async (db: DbOrTrx, schoolId: string, id: string, from: string, changes: Updateable<VideoConferenceTable>) => {
    const result = await db
      .updateTable('video_conferences')
      .set(changes)
      .where('school_id', '=', schoolId)
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },
};

export function createVideoLog(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  people: PeopleService;
  users: UserService;
  consents: ConsentService;
  notifications: NotificationService;
}) {
  const { handle, clock, audit, people, users, consents, notifications } = deps;
  const { db } = handle;
  const userId = (context: AuditContext) => (context.actor?.kind === 'user' ? context.actor.userId : '');

  /** Pupils without video-conference consent in force (withdrawn, refused, not given, or under review). */
  async function withoutConsent(schoolId: string, pupilIds: string[]): Promise<string[]> {
    const missing: Person[] = [];
    for (const pupilId of pupilIds) {
      const view = await consents.forPupil(schoolId, pupilId);
      const video = view.purposes.find((entry) => entry.purpose.code === 'video_conference');
      if (!video || video.state !== 'allowed') missing.push(view.pupil);
    }
    return missing.sort(byName).map((pupil) => pupil.displayName);
  }

  return {
    async list(schoolId: string, filter: { status?: string; from?: string; to?: string } = {}) {
      const rows = await repository.list(db, schoolId, filter);
      const pupils = await repository.pupilsOf(
        db,
        schoolId,
        rows.map((row) => row.id),
      );
      const supervisors = await people.getMany(
        schoolId,
        rows.map((row) => row.supervisor_id),
      );
      // Waiting for a decision and still to come first, then the rest newest first.
      const now = isoNow(clock);
      return rows
        .map((row) => ({
          ...row,
          statusLabel: conferenceStatusLabels[row.status as ConferenceStatus] ?? row.status,
          pupils: pupils.filter((pupil) => pupil.conference_id === row.id).length,
          supervisor: supervisors.get(row.supervisor_id)?.displayName ?? '',
          waiting: row.status === 'requested' && row.starts_at > now,
        }))
        .sort((a, b) => Number(b.waiting) - Number(a.waiting) || (a.waiting ? a.starts_at.localeCompare(b.starts_at) : b.starts_at.localeCompare(a.starts_at)));
    },

    async get(schoolId: string, id: string) {
      const row = await repository.find(db, schoolId, id);
      if (!row) throw notFound('video conference');
      const pupilRows = await repository.pupilsOf(db, schoolId, [id]);
      const persons = await people.getMany(schoolId, [row.supervisor_id, ...pupilRows.map((pupil) => pupil.pupil_id)]);
      const accounts = await users.list(schoolId);
      const nameOf = (accountId: string | null) => accounts.find((account) => account.id === accountId)?.displayName ?? '';
      return {
        row,
        statusLabel: conferenceStatusLabels[row.status as ConferenceStatus] ?? row.status,
        supervisor: persons.get(row.supervisor_id)?.displayName ?? '',
        pupils: pupilRows
          .map((pupil) => persons.get(pupil.pupil_id))
          .filter((person) => person !== undefined)
          .sort(byName),
        requestedBy: nameOf(row.requested_by),
        decidedBy: nameOf(row.decided_by),
      };
    },

    /** A member of staff asks for a conference: when, why, with whom outside school, who supervises, which pupils, recorded or not. */
    async request(
      context: AuditContext,
      input: {
        startsAt: string;
        minutes: string;
        purpose: string;
        externalEndpoints: string;
        supervisorId: string;
        pupilIds: string[];
        otherParticipants: string;
        recorded: boolean;
      },
    ): Promise<string> {
      const fields = [];
      const starts = Date.parse(input.startsAt);
      const minutes = Number(input.minutes);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(input.startsAt) || Number.isNaN(starts) || starts <= clock().getTime())
        fields.push({ field: 'startsAt', message: 'Enter a date and time in the future: the headteacher approves conferences beforehand' });
      if (!Number.isInteger(minutes) || minutes < 5 || minutes > 480) fields.push({ field: 'minutes', message: 'Enter how long it lasts, 5 to 480 minutes' });
      if (!input.purpose.trim() || input.purpose.length > 1000) fields.push({ field: 'purpose', message: 'Say what the conference is for' });
      if (!input.externalEndpoints.trim() || input.externalEndpoints.length > 1000)
        fields.push({ field: 'externalEndpoints', message: 'Say who or what the school connects to (organisation, service, address)' });
      if (input.otherParticipants.length > 1000) fields.push({ field: 'otherParticipants', message: 'Other participants must be 1,000 characters or fewer' });
      const supervisor = input.supervisorId ? (await people.getMany(context.schoolId, [input.supervisorId])).get(input.supervisorId) : undefined;
      if (!supervisor || supervisor.kind !== 'staff' || supervisor.status !== 'current')
        fields.push({ field: 'supervisorId', message: 'Choose the member of staff who supervises' });
      const pupilIds = [...new Set(input.pupilIds)];
      const pupils = await people.getMany(context.schoolId, pupilIds);
      if (pupilIds.some((id) => pupils.get(id)?.kind !== 'pupil' || pupils.get(id)?.status !== 'current'))
        fields.push({ field: 'pupilIds', message: 'Choose pupils from the list' });
      if (fields.length > 0) throw invalid('There is a problem with the video conference', fields);
      const id = newId();
      const heads = (await users.list(context.schoolId)).filter((account) => account.status === 'active' && account.roles.includes('headteacher'));
      await db.transaction().execute(async (trx) => {
        await serialise(trx, handle.dialect, `video-conference:${context.schoolId}`);
        const reference = `VC-${String((await repository.count(trx, context.schoolId)) + 1).padStart(4, '0')}`;
        const now = isoNow(clock);
        await repository.insert(
          trx,
          {
            school_id: context.schoolId,
            id,
            reference,
            starts_at: new Date(starts).toISOString(),
            ends_at: new Date(starts + minutes * 60_000).toISOString(),
            purpose: input.purpose.trim(),
            external_endpoints: input.externalEndpoints.trim(),
            supervisor_id: input.supervisorId,
            other_participants: input.otherParticipants.trim() || null,
            recorded: input.recorded ? 1 : 0,
            status: 'requested',
            requested_by: userId(context),
            requested_at: now,
            decided_by: null,
            decided_at: null,
            decision_note: null,
            written_consent_confirmed: 0,
            held_note: null,
            updated_at: now,
          },
          pupilIds,
        );
        await notifications.notify(
          trx,
          context.schoolId,
          heads.map((account) => account.id),
          { title: `Video conference ${reference} to approve`, link: `/video-conferences/${id}` },
        );
        await audit.record(context, 'video_conference.requested', { type: 'video_conference', id }, { reference, recorded: input.recorded }, trx);
      });
      return id;
    },

    /**
     * The headteacher approves or declines, before the start. Approving a recorded conference needs
     * every pupil's video-conference consent in force and confirmation that the adults have consented
     * in writing.
     */
    async decide(context: AuditContext, id: string, input: { approve: boolean; note: string; writtenConsent: boolean }): Promise<void> {
      const row = await repository.find(db, context.schoolId, id);
      if (!row) throw notFound('video conference');
      if (row.status !== 'requested') throw new AppError('CONFLICT', `This conference has already been ${row.status}`);
      if (row.starts_at <= isoNow(clock)) throw new AppError('CONFLICT', 'This conference has already started: approval must be given beforehand');
      if (!input.note.trim() || input.note.length > 1000)
        throw invalid('Give the reasons for the decision', [{ field: 'note', message: 'Give the reasons for the decision' }]);
      if (input.approve && row.recorded === 1) {
        const pupilIds = (await repository.pupilsOf(db, context.schoolId, [id])).map((pupil) => pupil.pupil_id);
        const missing = await withoutConsent(context.schoolId, pupilIds);
        if (missing.length > 0)
          throw invalid(`It is recorded, and these pupils do not have video-conference consent: ${missing.join(', ')}`, [
            { field: 'note', message: `Recorded: no video-conference consent for ${missing.join(', ')}` },
          ]);
        if (!input.writtenConsent)
          throw invalid('Confirm that every adult taking part has agreed in writing to the recording', [
            { field: 'writtenConsent', message: 'Confirm that every adult taking part has agreed in writing to the recording' },
          ]);
      }
      await db.transaction().execute(async (trx) => {
        const moved = await repository.update(trx, context.schoolId, id, 'requested', {
          status: input.approve ? 'approved' : 'declined',
          decided_by: userId(context),
          decided_at: isoNow(clock),
          decision_note: input.note.trim(),
          written_consent_confirmed: input.approve && input.writtenConsent ? 1 : 0,
          updated_at: isoNow(clock),
        });
        if (!moved) throw new AppError('CONFLICT', 'Someone else has just decided this conference');
        await notifications.notify(trx, context.schoolId, [row.requested_by], {
          title: `Video conference ${row.reference}: ${input.approve ? 'approved' : 'declined'}`,
          link: `/video-conferences/${id}`,
        });
        await audit.record(context, `video_conference.${input.approve ? 'approved' : 'declined'}`, { type: 'video_conference', id }, {}, trx);
      });
    },

    /** After the event: marked held (only an approved conference that has started). */
    async markHeld(context: AuditContext, id: string, note: string): Promise<void> {
      const row = await repository.find(db, context.schoolId, id);
      if (!row) throw notFound('video conference');
      if (row.status !== 'approved') throw new AppError('CONFLICT', 'Only an approved conference can be marked as held');
      if (row.starts_at > isoNow(clock)) throw new AppError('CONFLICT', 'This conference has not started yet');
      await db.transaction().execute(async (trx) => {
        if (
          !(await repository.update(trx, context.schoolId, id, 'approved', {
            status: 'held',
            held_note: note.trim().slice(0, 1000) || null,
            updated_at: isoNow(clock),
          }))
        )
          throw new AppError('CONFLICT', 'This conference has just changed');
        await audit.record(context, 'video_conference.held', { type: 'video_conference', id }, {}, trx);
      });
    },

    async cancel(context: AuditContext, id: string): Promise<void> {
      const row = await repository.find(db, context.schoolId, id);
      if (!row) throw notFound('video conference');
      if (row.status !== 'requested' && row.status !== 'approved') throw new AppError('CONFLICT', `This conference has already been ${row.status}`);
      await db.transaction().execute(async (trx) => {
        if (!(await repository.update(trx, context.schoolId, id, row.status, { status: 'cancelled', updated_at: isoNow(clock) })))
          throw new AppError('CONFLICT', 'This conference has just changed');
        await audit.record(context, 'video_conference.cancelled', { type: 'video_conference', id }, {}, trx);
      });
    },
  };
}

export type VideoLog = ReturnType<typeof createVideoLog>;
