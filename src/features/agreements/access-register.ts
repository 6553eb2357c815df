import type { DatabaseHandle } from '../../db/database.js';
import { isoNow } from '../../db/helpers.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { invalid } from '../../platform/errors.js';
import type { Mailer } from '../../platform/mail.js';
import type { NotificationService } from '../../platform/notifications/service.js';
import type { UserService } from '../../platform/users/service.js';
import type { Clearance, Person, PeopleService } from '../people/service.js';
import type { Audience } from './defaults.js';
import * as repository from './repository.js';

/**
 * The ICT access register (policies 000, 003 §13, 004 §7.2): for every person, whether they are
 * cleared for ICT access and why, which filtering applies to them, and — for the technician — who
 * has been cleared since a date and which leavers still hold access.
 */

export type AgreementState = 'signed' | 'renewal_due' | 'signed_earlier_version' | 'not_signed';

export const agreementStateLabels: Record<AgreementState, string> = {
  signed: 'Signed',
  renewal_due: 'Renewal due',
  signed_earlier_version: 'Signed an earlier version',
  not_signed: 'Not signed',
};

export type Category = 'staff' | 'governor' | 'pupil' | 'guest';

export const categoryLabels: Record<Category, string> = { staff: 'Staff', governor: 'Governor', pupil: 'Pupil', guest: 'Visitor or community user' };

const categoryOrder: Category[] = ['staff', 'governor', 'pupil', 'guest'];

export interface RegisterEntry {
  person: Person;
  category: Category;
  cleared: boolean;
  /** Why: what is in place, or what is missing. */
  reason: string;
  /** When the person became cleared (the latest of the signatures or access start that cleared them). */
  clearedSince: string | null;
  /** Staff and governors: the state of their own agreement; pupils: parent and pupil agreements. */
  staffState?: AgreementState;
  signedVersion?: number | null;
  currentVersion?: number | null;
  parentState?: AgreementState;
  pupilState?: AgreementState | 'not_needed';
  /** The filtering policy group that applies (uncleared people get the most restrictive). */
  filtering: { kind: Clearance['groupKind']; code: string; label: string };
  /** The technician has recorded a network account for this person (and not removed it). */
  accountRecorded: boolean;
}

export interface LeaverEntry {
  person: Person;
  holds: string[];
}

/** Reminders go to each outstanding person at most once in this many days. */
export const reminderIntervalDays = 7;

const keyStageFilterLabels: Record<string, string> = {
  EYFS: 'Pupils: early years',
  KS1: 'Pupils: key stage 1',
  KS2: 'Pupils: key stage 2',
  KS3: 'Pupils: key stage 3',
  KS4: 'Pupils: key stage 4',
  KS5: 'Pupils: sixth form',
};

function monthsBefore(now: Date, months: number): string {
  const date = new Date(now.getTime());
  date.setUTCMonth(date.getUTCMonth() - months);
  return date.toISOString();
}

interface SignatureLite {
  person_id: string;
  template_id: string;
  version_id: string;
  version: number;
  signed_at: string;
}

/** The state of one person's agreement: the newest signature decides (current version, and within the renewal period). */
export function agreementState(latest: SignatureLite | undefined, currentVersionId: string | null, renewalMonths: number | null, now: Date): AgreementState {
  if (!latest) return 'not_signed';
  if (latest.version_id !== currentVersionId) return 'signed_earlier_version';
  if (renewalMonths && latest.signed_at < monthsBefore(now, renewalMonths)) return 'renewal_due';
  return 'signed';
}

export function createAccessRegister(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  people: PeopleService;
  users: UserService;
  mailer: Mailer;
  notifications: NotificationService;
  ensureDefaults: (schoolId: string) => Promise<void>;
  issueParentLink: (context: AuditContext, pupilId: string, parentId: string) => Promise<string>;
  publicUrl: string;
}) {
  const { handle, clock, audit, people, users, mailer, notifications } = deps;
  const { db } = handle;

  async function agreementsInForce(schoolId: string) {
    await deps.ensureDefaults(schoolId);
    const [templates, versions] = await Promise.all([repository.templates(db, schoolId), repository.versionsOfSchool(db, schoolId)]);
    const signatures = await repository.signaturesOfTemplates(
      db,
      schoolId,
      templates.map((row) => row.id),
    );
    // Newest first, so the first signature seen per template and person is the latest.
    const latest = new Map<string, SignatureLite>();
    for (const signature of signatures) {
      const key = `${signature.template_id}:${signature.person_id}`;
      if (!latest.has(key)) latest.set(key, signature);
    }
    const now = clock();
    return (audience: Audience) => {
      const template = templates.find((row) => row.audience === audience);
      const current = versions.find((version) => version.template_id === template?.id && version.status === 'published') ?? null;
      return {
        current,
        stateOf(personId: string): { state: AgreementState; signature: SignatureLite | undefined } {
          const signature = template ? latest.get(`${template.id}:${personId}`) : undefined;
          return { state: agreementState(signature, current?.id ?? null, template?.renewal_months ?? null, now), signature };
        },
      };
    };
  }

  const uncleared = { kind: 'uncleared' as const, code: 'uncleared', label: 'Most restrictive (not cleared)' };

  async function compute(schoolId: string): Promise<RegisterEntry[]> {
    const inForce = await agreementsInForce(schoolId);
    const staffAgreement = inForce('staff');
    const parentAgreement = inForce('parent');
    const ks1 = inForce('pupil_ks1');
    const ks2 = inForce('pupil_ks2');
    const community = inForce('community');
    const today = isoNow(clock).slice(0, 10);
    const [current, guests, provisioned] = await Promise.all([
      people.list(schoolId, { status: 'current' }, 1, 100_000),
      repository.guestAccess(db, schoolId),
      repository.provisioning(db, schoolId),
    ]);
    const accounts = new Set(provisioned.filter((row) => row.removed_at === null).map((row) => row.person_id));
    const entries: RegisterEntry[] = [];
    for (const person of current.people) {
      const accountRecorded = accounts.has(person.id);
      if (person.kind === 'staff' || person.kind === 'governor') {
        const { state, signature } = staffAgreement.stateOf(person.id);
        const cleared = state === 'signed';
        entries.push({
          person,
          category: person.kind,
          cleared,
          reason: cleared
            ? `Signed version ${signature!.version} of the staff code of conduct`
            : `Staff code of conduct: ${agreementStateLabels[state].toLowerCase()}`,
          clearedSince: cleared ? signature!.signed_at : null,
          staffState: state,
          signedVersion: signature?.version ?? null,
          currentVersion: staffAgreement.current?.version ?? null,
          filtering: cleared
            ? person.kind === 'staff'
              ? { kind: 'all_staff', code: 'staff', label: 'Staff' }
              : { kind: 'governors', code: 'governors', label: 'Governors' }
            : uncleared,
          accountRecorded,
        });
      } else if (person.kind === 'pupil') {
        const parent = parentAgreement.stateOf(person.id);
        const own = ((person.yearGroup ?? 0) <= 2 ? ks1 : ks2).stateOf(person.id);
        const pupilNeeded = person.keyStage !== 'EYFS';
        const missing = [
          ...(parent.state === 'signed' ? [] : [`parent agreement (${agreementStateLabels[parent.state].toLowerCase()})`]),
          ...(!pupilNeeded || own.state === 'signed' ? [] : [`pupil agreement (${agreementStateLabels[own.state].toLowerCase()})`]),
        ];
        // Without a year group Haven cannot tell which rules or filtering apply: not cleared until it is set.
        if (person.yearGroup === null) missing.push('a year group on their record');
        const cleared = missing.length === 0;
        const since = cleared ? [parent.signature!.signed_at, ...(pupilNeeded ? [own.signature!.signed_at] : [])].sort().at(-1)! : null;
        entries.push({
          person,
          category: 'pupil',
          cleared,
          reason: cleared
            ? pupilNeeded
              ? 'Parent and pupil agreements signed'
              : 'Parent agreement signed (pupil agreement not needed in EYFS)'
            : `Missing: ${missing.join(', ')}`,
          clearedSince: since,
          parentState: parent.state,
          pupilState: pupilNeeded ? own.state : 'not_needed',
          filtering:
            cleared && person.keyStage
              ? { kind: 'key_stage', code: person.keyStage, label: keyStageFilterLabels[person.keyStage] ?? person.keyStage }
              : uncleared,
          accountRecorded,
        });
      } else if (person.kind === 'visitor') {
        const { state, signature } = community.stateOf(person.id);
        const active = guests
          .filter((row) => row.person_id === person.id && !row.revoked_at && row.starts_on <= today && row.expires_on >= today)
          .sort((a, b) => b.expires_on.localeCompare(a.expires_on))[0];
        const cleared = state === 'signed' && active !== undefined;
        entries.push({
          person,
          category: 'guest',
          cleared,
          reason: cleared
            ? `Community agreement signed; guest access until ${active.expires_on} (sponsor: ${active.sponsor})`
            : state !== 'signed'
              ? `Community agreement: ${agreementStateLabels[state].toLowerCase()}`
              : 'No guest access in force today',
          clearedSince: cleared ? [signature!.signed_at, `${active.starts_on}T00:00:00.000Z`].sort().at(-1)! : null,
          filtering: cleared ? { kind: 'guests', code: 'guests', label: 'Guests' } : uncleared,
          accountRecorded,
        });
      }
    }
    return entries.sort(
      (a, b) =>
        categoryOrder.indexOf(a.category) - categoryOrder.indexOf(b.category) ||
        (a.person.className ?? '').localeCompare(b.person.className ?? '', 'en-GB', { numeric: true }) ||
        a.person.legalLastName.localeCompare(b.person.legalLastName) ||
        a.person.legalFirstName.localeCompare(b.person.legalFirstName),
    );
  }

  return {
    entries: compute,

    /** For the filtering engine and other features: clearance and policy group per person (through the people service). */
    async clearanceFor(schoolId: string, personIds: readonly string[]): Promise<Map<string, Clearance>> {
      const wanted = new Set(personIds);
      const result = new Map<string, Clearance>();
      for (const entry of await compute(schoolId)) {
        if (!wanted.has(entry.person.id)) continue;
        result.set(entry.person.id, {
          cleared: entry.cleared,
          reason: entry.reason,
          since: entry.clearedSince,
          groupKind: entry.filtering.kind,
          groupCode: entry.filtering.code,
        });
      }
      // People who have left, or are not in the register at all, are not cleared.
      for (const id of wanted)
        if (!result.has(id))
          result.set(id, { cleared: false, reason: 'Not a current member of the school', since: null, groupKind: 'uncleared', groupCode: 'uncleared' });
      return result;
    },

    /**
     * Leavers who still hold some access: a network account the technician has not marked removed, a
     * Haven account that is still active, or guest access not yet ended.
     */
    async leaversWithAccess(schoolId: string): Promise<LeaverEntry[]> {
      const today = isoNow(clock).slice(0, 10);
      const [left, provisioned, accounts, guests] = await Promise.all([
        people.list(schoolId, { status: 'left' }, 1, 100_000),
        repository.provisioning(db, schoolId),
        users.list(schoolId),
        repository.guestAccess(db, schoolId),
      ]);
      const entries: LeaverEntry[] = [];
      for (const person of left.people) {
        const holds = [];
        if (provisioned.some((row) => row.person_id === person.id && row.removed_at === null)) holds.push('network account');
        if (accounts.some((account) => account.personId === person.id && account.status === 'active')) holds.push('Haven account');
        if (guests.some((row) => row.person_id === person.id && !row.revoked_at && row.expires_on >= today)) holds.push('guest access');
        if (holds.length > 0) entries.push({ person, holds });
      }
      return entries.sort(
        (a, b) => (b.person.leaveDate ?? '').localeCompare(a.person.leaveDate ?? '') || a.person.legalLastName.localeCompare(b.person.legalLastName),
      );
    },

    /** The technician records that network accounts now exist for these (cleared) people. */
    async recordAccounts(context: AuditContext, personIds: readonly string[]): Promise<number> {
      const entries = new Map((await compute(context.schoolId)).map((entry) => [entry.person.id, entry]));
      const chosen = [...new Set(personIds)];
      if (chosen.length === 0)
        throw invalid('Tick the people whose accounts you have made', [{ field: 'personIds', message: 'Tick the people whose accounts you have made' }]);
      const refused = chosen.filter((id) => !entries.get(id)?.cleared);
      if (refused.length > 0) {
        const names = refused.map((id) => entries.get(id)?.person.displayName ?? 'someone not in the register').join(', ');
        const message = `${names}: accounts can only be recorded for people who are cleared for ICT access`;
        throw invalid(message, [{ field: 'personIds', message }]);
      }
      const by = context.actor?.kind === 'user' ? context.actor.userId : null;
      await db.transaction().execute(async (trx) => {
        for (const id of chosen) await repository.markProvisioned(trx, context.schoolId, id, isoNow(clock), by);
        await audit.record(context, 'access_register.accounts_recorded', null, { people: chosen.length }, trx);
      });
      return chosen.length;
    },

    /** The technician records that a leaver's access has gone: network account removed, Haven account and guest access ended. */
    async removeAccess(context: AuditContext, personIds: readonly string[]): Promise<number> {
      const leavers = new Map((await this.leaversWithAccess(context.schoolId)).map((entry) => [entry.person.id, entry]));
      const chosen = [...new Set(personIds)];
      if (chosen.length === 0 || chosen.some((id) => !leavers.has(id)))
        throw invalid('Choose leavers from the list', [{ field: 'personIds', message: 'Choose leavers from the list' }]);
      const by = context.actor?.kind === 'user' ? context.actor.userId : null;
      const now = isoNow(clock);
      await db.transaction().execute(async (trx) => {
        for (const id of chosen) {
          await repository.markAccessRemoved(trx, context.schoolId, id, now, by);
          await repository.revokeGuestAccessOf(trx, context.schoolId, id, now);
          const account = await users.findByPerson(context.schoolId, id, trx);
          if (account && account.status !== 'disabled') await users.disable(context.schoolId, account.id, context, trx);
          await audit.record(context, 'access_register.access_removed', { type: 'person', id }, { held: leavers.get(id)!.holds }, trx);
        }
      });
      return chosen.length;
    },

    /**
     * Reminds everyone outstanding, at most once a week each: staff and governors in Haven and by
     * email; parents of pupils without the parent agreement by email with a fresh signing link.
     * Pupils agree in class sessions, so their outstanding list goes to the teacher, not to them.
     */
    async sendReminders(context: AuditContext): Promise<{ staff: number; parents: number }> {
      const now = clock();
      const cutoff = new Date(now.getTime() - reminderIntervalDays * 86_400_000).toISOString();
      const [entries, sent, accounts] = await Promise.all([
        compute(context.schoolId),
        repository.reminders(db, context.schoolId),
        users.list(context.schoolId),
      ]);
      const recently = (personId: string, audience: string) =>
        sent.some((row) => row.person_id === personId && row.audience === audience && row.reminded_at > cutoff);
      let staff = 0;
      let parents = 0;
      for (const entry of entries) {
        if ((entry.category === 'staff' || entry.category === 'governor') && !entry.cleared && !recently(entry.person.id, 'staff')) {
          const account = accounts.find((candidate) => candidate.personId === entry.person.id && candidate.status === 'active');
          const email = account?.email ?? entry.person.email;
          if (!account && !email) continue;
          if (account)
            await notifications.notify(db, context.schoolId, [account.id], {
              title: 'Please read and sign the staff ICT code of conduct',
              link: '/agreements/sign',
            });
          if (email)
            await mailer.send({
              schoolId: context.schoolId,
              to: email,
              subject: 'Please sign the ICT code of conduct',
              text: `Please read and sign the school's ICT code of conduct in Haven: ${deps.publicUrl}/agreements/sign\n\nYou need to have signed the version in force to keep using the school's ICT.`,
            });
          await repository.recordReminder(db, context.schoolId, entry.person.id, 'staff', now.toISOString());
          staff += 1;
        }
        if (entry.category === 'pupil' && entry.parentState !== 'signed') {
          for (const guardian of (await people.guardiansOf(context.schoolId, entry.person.id)).filter((candidate) => candidate.parentalResponsibility)) {
            if (!guardian.email || recently(guardian.id, `parent:${entry.person.id}`)) continue;
            const url = await deps.issueParentLink(context, entry.person.id, guardian.id);
            await mailer.send({
              schoolId: context.schoolId,
              to: guardian.email,
              subject: `Please sign the ICT agreement for ${entry.person.preferredFirstName ?? entry.person.legalFirstName}`,
              text: `The school asks every parent or carer to read and sign its ICT agreement on behalf of their child before the child uses the school's computers.\n\nPlease read and sign it here (the link works once, for 30 days; any earlier link we sent no longer works):\n${url}\n\nIf you would rather sign a paper copy, please ask the school office.`,
              secret: { value: url, keepUntilSent: false },
            });
            await repository.recordReminder(db, context.schoolId, guardian.id, `parent:${entry.person.id}`, now.toISOString());
            parents += 1;
          }
        }
      }
      if (staff + parents > 0) await audit.record(context, 'access_register.reminders_sent', null, { staff, parents });
      return { staff, parents };
    },
  };
}

export type AccessRegister = ReturnType<typeof createAccessRegister>;
