import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import { serialise } from '../../db/locks.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import QRCode from 'qrcode';
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import { sniffContentType, type FileStore } from '../../platform/files.js';
import { renderMarkdown } from '../../platform/markdown.js';
import type { NotificationService } from '../../platform/notifications/service.js';
import type { UserService } from '../../platform/users/service.js';
import type { PeopleService } from '../people/service.js';
import { audienceLabels, audiences, defaultAgreements, type Audience } from './defaults.js';
import { agreementState } from './access-register.js';
import * as repository from './repository.js';

const markdown = { render: renderMarkdown };

/** Induction letters go home and come back over some weeks. */
const parentLinkDays = 30;

/** A real calendar date "YYYY-MM-DD" (not 2026-02-31). */
function isRealDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

export type ParentLinkPurpose = 'parent_agreement' | 'consents';

const parentLinkPaths: Record<ParentLinkPurpose, string> = { parent_agreement: 'agree', consents: 'consent' };

export function createAgreementService(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  people: PeopleService;
  users: UserService;
  notifications: NotificationService;
  files: FileStore;
  publicUrl: string;
}) {
  const { handle, clock, audit, people, users, notifications, files, publicUrl } = deps;
  const { db } = handle;

  async function ensureDefaults(schoolId: string): Promise<void> {
    if ((await repository.templates(db, schoolId)).length > 0) return;
    await db.transaction().execute(async (trx) => {
      await serialise(trx, handle.dialect, `agreement-defaults:${schoolId}`);
      if ((await repository.templates(trx, schoolId)).length > 0) return;
      const now = isoNow(clock);
      for (const audience of audiences) {
        const templateId = newId();
        const text = defaultAgreements[audience];
        await repository.insertTemplate(trx, { school_id: schoolId, id: templateId, audience, title: text.title, renewal_months: null, created_at: now });
        await repository.insertVersion(trx, {
          school_id: schoolId,
          id: newId(),
          template_id: templateId,
          version: 1,
          body: text.body,
          content_hash: sha256Hex(text.body),
          status: 'published',
          published_at: now,
          published_by: 'Haven defaults',
          created_at: now,
        });
      }
    });
  }

  async function template(schoolId: string, templateId: string) {
    await ensureDefaults(schoolId);
    const row = (await repository.templates(db, schoolId)).find((candidate) => candidate.id === templateId);
    if (!row) throw notFound('agreement');
    return row;
  }

  async function templateFor(schoolId: string, audience: Audience) {
    await ensureDefaults(schoolId);
    const row = (await repository.templates(db, schoolId)).find((candidate) => candidate.audience === audience);
    if (!row) throw notFound('agreement');
    return row;
  }

  return {
    ensureDefaults,
    render: (body: string) => markdown.render(body),

    async list(schoolId: string) {
      await ensureDefaults(schoolId);
      const [rows, versions] = await Promise.all([repository.templates(db, schoolId), repository.versionsOfSchool(db, schoolId)]);
      return rows.map((row) => {
        const mine = versions.filter((version) => version.template_id === row.id);
        return {
          id: row.id,
          audience: row.audience as Audience,
          audienceLabel: audienceLabels[row.audience as Audience] ?? row.audience,
          title: row.title,
          current: mine.find((version) => version.status === 'published') ?? null,
          draft: mine.find((version) => version.status === 'draft') ?? null,
        };
      });
    },

    async get(schoolId: string, templateId: string) {
      const row = await template(schoolId, templateId);
      const versions = await repository.versionsOf(db, schoolId, templateId);
      return {
        template: row,
        audienceLabel: audienceLabels[row.audience as Audience] ?? row.audience,
        versions,
        current: versions.find((version) => version.status === 'published') ?? null,
        draft: versions.find((version) => version.status === 'draft') ?? null,
      };
    },

    /** Drafts are edited freely; a published version never changes. */
    async saveDraft(context: AuditContext, templateId: string, body: string): Promise<void> {
      const text = body.replace(/\r\n/g, '\n').trim();
      if (!text) throw invalid('Write the agreement text', [{ field: 'body', message: 'Write the agreement text' }]);
      if (text.length > 50_000)
        throw invalid('The agreement must be 50,000 characters or fewer', [{ field: 'body', message: 'The agreement must be 50,000 characters or fewer' }]);
      await template(context.schoolId, templateId);
      await db.transaction().execute(async (trx) => {
        const versions = await repository.versionsOf(trx, context.schoolId, templateId);
        const draft = versions.find((version) => version.status === 'draft');
        if (draft) await repository.updateDraft(trx, context.schoolId, draft.id, { body: text, content_hash: sha256Hex(text) });
        else {
          const next = Math.max(0, ...versions.map((version) => version.version)) + 1;
          await repository.insertVersion(trx, {
            school_id: context.schoolId,
            id: newId(),
            template_id: templateId,
            version: next,
            body: text,
            content_hash: sha256Hex(text),
            status: 'draft',
            published_at: null,
            published_by: null,
            created_at: isoNow(clock),
          });
        }
        await audit.record(context, 'agreement.draft_saved', { type: 'agreement', id: templateId }, {}, trx);
      });
    },

    /** Signatures older than `months` must be renewed (blank: no renewal); applies at once to the register. */
    async setRenewal(context: AuditContext, templateId: string, months: string): Promise<void> {
      const text = months.trim();
      const value = text === '' ? null : Number(text);
      if (value !== null && (!Number.isInteger(value) || value < 1 || value > 60))
        throw invalid('Renewal must be a whole number of months from 1 to 60, or blank for none', [
          { field: 'renewalMonths', message: 'Enter a whole number of months from 1 to 60, or leave blank for no renewal' },
        ]);
      await template(context.schoolId, templateId);
      await db.transaction().execute(async (trx) => {
        await repository.setRenewal(trx, context.schoolId, templateId, value);
        await audit.record(context, 'agreement.renewal_set', { type: 'agreement', id: templateId }, { months: value }, trx);
      });
    },

    /**
     * Publishing makes the draft the version in force. Everyone who signed an earlier one now shows
     * as "signed an earlier version" and is asked to sign again.
     */
    async publish(context: AuditContext, templateId: string): Promise<number> {
      const row = await template(context.schoolId, templateId);
      const accounts = await users.list(context.schoolId);
      return db.transaction().execute(async (trx) => {
        const versions = await repository.versionsOf(trx, context.schoolId, templateId);
        const draft = versions.find((version) => version.status === 'draft');
        if (!draft) throw new AppError('CONFLICT', 'There is no draft to publish: save a new version first');
        const now = isoNow(clock);
        await repository.supersedePublished(trx, context.schoolId, templateId);
        await repository.publishDraft(trx, context.schoolId, draft.id, now, context.actor?.displayName ?? 'Haven');
        if (row.audience === 'staff') {
          // The re-sign campaign: every active staff account is asked to sign the new version.
          const staff = accounts.filter((account) => account.status === 'active' && account.roles.some((role) => role !== 'pupil' && role !== 'parent'));
          await notifications.notify(
            trx,
            context.schoolId,
            staff.map((account) => account.id),
            { title: `Please read and sign version ${draft.version} of the staff ICT code of conduct`, link: '/agreements/sign' },
          );
        }
        await audit.record(context, 'agreement.published', { type: 'agreement', id: templateId }, { version: draft.version, hash: draft.content_hash }, trx);
        return draft.version;
      });
    },

    /** What a signed-in member of staff is asked to sign now, if anything. */
    async staffToSign(context: AuditContext, personId: string | null) {
      const row = await templateFor(context.schoolId, 'staff');
      const current = (await repository.versionsOf(db, context.schoolId, row.id)).find((version) => version.status === 'published');
      if (!current) return null;
      const signatures = personId ? await repository.signaturesOf(db, context.schoolId, row.id, [personId]) : [];
      const latest = signatures[0];
      const state = agreementState(latest, current.id, row.renewal_months, clock());
      return { template: row, current, html: markdown.render(current.body), signedCurrent: state === 'signed', renewalDue: state === 'renewal_due', latest };
    },

    /** A member of staff signs the version in force: the exact text (by hash), name, job title, time and address. */
    async signAsStaff(
      context: AuditContext,
      input: { userId: string; versionId: string; fullName: string; jobTitle: string; accepted: boolean; ip: string | undefined },
    ): Promise<void> {
      const fields = [];
      if (!input.accepted) fields.push({ field: 'accepted', message: 'Tick to say you have read, understood and accept the agreement' });
      if (!input.fullName.trim() || input.fullName.length > 100) fields.push({ field: 'fullName', message: 'Type your full name' });
      if (input.jobTitle.length > 100) fields.push({ field: 'jobTitle', message: 'Job title must be 100 characters or fewer' });
      if (fields.length > 0) throw invalid('There is a problem with your signature', fields);
      const row = await templateFor(context.schoolId, 'staff');
      const account = await users.get(context.schoolId, input.userId);
      // The staff code of conduct is for staff and governors; visitors sign the community agreement.
      const staffRoles = account.roles.filter((role) => role !== 'pupil' && role !== 'parent' && role !== 'visitor');
      if (staffRoles.length === 0) throw new AppError('FORBIDDEN', 'This agreement is for staff and governors');
      const kind = staffRoles.every((role) => role === 'governor') ? 'governor' : 'staff';
      await db.transaction().execute(async (trx) => {
        // One signature at a time per account: a double submit must not make two person records.
        await serialise(trx, handle.dialect, `user-person:${account.id}`);
        const current = (await repository.versionsOf(trx, context.schoolId, row.id)).find((version) => version.status === 'published');
        // Signing a version that is no longer in force (the page was open during a publish) is refused.
        if (!current || current.id !== input.versionId) throw new AppError('CONFLICT', 'A newer version has been published: read it and sign again');
        let personId = await users.personIdOf(trx, context.schoolId, account.id);
        if (!personId) {
          const [first, ...rest] = input.fullName.trim().split(/\s+/);
          const person = await people.createPerson(
            trx,
            context.schoolId,
            {
              kind,
              legalFirstName: first ?? input.fullName,
              legalLastName: rest.join(' ') || '-',
              jobTitle: input.jobTitle || undefined,
              email: account.email,
            },
            context,
          );
          await users.linkPerson(trx, context.schoolId, account.id, person.id);
          personId = person.id;
        }
        await repository.insertSignature(trx, {
          school_id: context.schoolId,
          id: newId(),
          template_id: row.id,
          version_id: current.id,
          version: current.version,
          content_hash: current.content_hash,
          person_id: personId,
          signed_name: input.fullName.trim(),
          job_title: input.jobTitle.trim() || null,
          method: 'online',
          signed_at: isoNow(clock),
          ip: input.ip ?? null,
          recorded_by: null,
          signed_by_person_id: personId,
          scan_file_id: null,
        });
        await audit.record(context, 'agreement.signed', { type: 'person', id: personId }, { version: current.version, hash: current.content_hash }, trx);
      });
    },

    /**
     * A single-use link for a parent with parental responsibility to act for their child without an
     * account: sign the parent agreement (printed on the induction letter as a URL and QR code, or
     * emailed) or give and withdraw consents. Only the newest link per parent, pupil and purpose works.
     */
    async issueParentLink(context: AuditContext, pupilId: string, parentId: string, purpose: ParentLinkPurpose = 'parent_agreement'): Promise<string> {
      const guardians = await people.guardiansOf(context.schoolId, pupilId);
      if (!guardians.some((guardian) => guardian.id === parentId && guardian.parentalResponsibility)) {
        throw invalid('Only a parent or carer with parental responsibility for the pupil can act for them', [
          { field: 'parentId', message: 'Choose a parent or carer with parental responsibility' },
        ]);
      }
      const secret = randomToken();
      const now = isoNow(clock);
      await db.transaction().execute(async (trx) => {
        // Only the newest link works: issuing is serialised so two at once cannot both stay live.
        await serialise(trx, handle.dialect, `parent-link:${parentId}:${pupilId}:${purpose}`);
        await repository.revokeParentLinks(trx, context.schoolId, parentId, pupilId, purpose, now);
        await repository.insertParentLink(trx, {
          school_id: context.schoolId,
          id: sha256Hex(secret),
          parent_id: parentId,
          pupil_id: pupilId,
          purpose,
          created_at: now,
          expires_at: new Date(clock().getTime() + parentLinkDays * 86_400_000).toISOString(),
          used_at: null,
        });
        await audit.record(context, 'parent_link.issued', { type: 'person', id: pupilId }, { parentId, purpose }, trx);
      });
      return `${publicUrl}/${parentLinkPaths[purpose]}/${context.schoolId}.${secret}`;
    },

    /** Checks a parent's link for a purpose without spending it; says clearly why one is refused. */
    async checkParentLink(token: string, purpose: ParentLinkPurpose) {
      const refused = (message: string) => new AppError('NOT_FOUND', message);
      const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (!match) throw refused('This link is not valid. Check you typed or copied the whole address from the letter or email.');
      const [, schoolId, secret] = match as unknown as [string, string, string];
      const link = await repository.findParentLink(db, schoolId, sha256Hex(secret));
      if (!link || link.purpose !== purpose) throw refused('This link is not valid. Check you typed or copied the whole address from the letter or email.');
      if (link.used_at)
        throw refused('This link has already been used, or a newer one has been sent. If you need to change anything, please contact the school office.');
      if (link.expires_at < isoNow(clock)) throw refused('This link has expired. Please ask the school office for a new one.');
      const [pupil, parent] = await Promise.all([people.get(schoolId, link.pupil_id), people.get(schoolId, link.parent_id)]);
      // A parent who has since lost parental responsibility (or the link) cannot act for the child.
      const guardians = await people.guardiansOf(schoolId, pupil.id);
      if (pupil.status !== 'current' || !guardians.some((guardian) => guardian.id === parent.id && guardian.parentalResponsibility))
        throw refused('This link can no longer be used. Please contact the school office.');
      return { schoolId, link, pupil, parent };
    },

    /** Spends a link inside the caller's transaction: false when it was spent meanwhile. */
    spendParentLink: (trx: DbOrTrx, schoolId: string, linkId: string) => repository.spendParentLink(trx, schoolId, linkId, isoNow(clock)),

    /** Checks a parent's agreement link without spending it. */
    async openParentLink(token: string) {
      const { schoolId, link, pupil, parent } = await this.checkParentLink(token, 'parent_agreement');
      const row = await templateFor(schoolId, 'parent');
      const current = (await repository.versionsOf(db, schoolId, row.id)).find((version) => version.status === 'published');
      if (!current) throw new AppError('NOT_FOUND', 'There is no agreement to sign at the moment.');
      return { schoolId, link, pupil, parent, template: row, current, html: markdown.render(current.body) };
    },

    async signWithParentLink(
      token: string,
      input: { versionId: string; fullName: string; accepted: boolean; ip: string | undefined },
    ): Promise<{ pupilName: string }> {
      const opened = await this.openParentLink(token);
      const fields = [];
      if (!input.accepted) fields.push({ field: 'accepted', message: 'Tick to say you have read and agree' });
      if (!input.fullName.trim() || input.fullName.length > 100) fields.push({ field: 'fullName', message: 'Type your full name' });
      if (fields.length > 0) throw invalid('There is a problem with your signature', fields);
      if (opened.current.id !== input.versionId) throw new AppError('CONFLICT', 'The agreement has just been updated: please read it again and sign.');
      const context: AuditContext = { schoolId: opened.schoolId, ip: input.ip };
      await db.transaction().execute(async (trx) => {
        if (!(await repository.spendParentLink(trx, opened.schoolId, opened.link.id, isoNow(clock))))
          throw new AppError('NOT_FOUND', 'This link has already been used to sign.');
        await repository.insertSignature(trx, {
          school_id: opened.schoolId,
          id: newId(),
          template_id: opened.template.id,
          version_id: opened.current.id,
          version: opened.current.version,
          content_hash: opened.current.content_hash,
          person_id: opened.pupil.id,
          signed_name: input.fullName.trim(),
          job_title: null,
          method: 'parent_link',
          signed_at: isoNow(clock),
          ip: input.ip ?? null,
          recorded_by: null,
          signed_by_person_id: opened.parent.id,
          scan_file_id: null,
        });
        await audit.record(
          context,
          'agreement.signed_by_parent',
          { type: 'person', id: opened.pupil.id },
          { parentId: opened.parent.id, version: opened.current.version },
          trx,
        );
      });
      return { pupilName: opened.pupil.displayName };
    },

    /**
     * A paper copy signed and handed in: recorded by office staff with the date on the slip, and
     * optionally a scan (encrypted at rest). Parent slips need a parent with parental responsibility.
     */
    async recordPaper(
      context: AuditContext,
      input: {
        audience: string;
        personId: string;
        parentId?: string | undefined;
        signedOn: string;
        signedName: string;
        scan?: { name: string; data: Buffer } | undefined;
      },
    ): Promise<void> {
      const fields = [];
      if (!(['staff', 'parent', 'pupil_ks1', 'pupil_ks2', 'community'] as const).includes(input.audience as Audience))
        fields.push({ field: 'audience', message: 'Choose which agreement was signed' });
      if (!isRealDate(input.signedOn) || input.signedOn > isoNow(clock).slice(0, 10))
        fields.push({ field: 'signedOn', message: 'Enter the date on the slip, a real date not in the future' });
      if (!input.signedName.trim() || input.signedName.length > 100) fields.push({ field: 'signedName', message: 'Enter the name written on the slip' });
      if (fields.length > 0) throw invalid('There is a problem with the paper copy', fields);
      const audience = input.audience as Audience;
      const person = await people.get(context.schoolId, input.personId);
      if (audience === 'parent') {
        if (person.kind !== 'pupil')
          throw invalid('A parent slip is recorded against the pupil', [{ field: 'personId', message: 'Choose the pupil the slip is for' }]);
        const guardians = await people.guardiansOf(context.schoolId, person.id);
        if (!guardians.some((guardian) => guardian.id === input.parentId && guardian.parentalResponsibility)) {
          throw invalid('Only a parent or carer with parental responsibility can sign for the pupil', [
            { field: 'parentId', message: 'Choose a parent or carer with parental responsibility' },
          ]);
        }
      }
      const row = await templateFor(context.schoolId, audience);
      let scanId: string | null = null;
      try {
        await db.transaction().execute(async (trx) => {
          const current = (await repository.versionsOf(trx, context.schoolId, row.id)).find((version) => version.status === 'published');
          if (!current) throw new AppError('CONFLICT', 'That agreement has no version in force');
          // A slip signed before the version in force was published is for an earlier text.
          if (current.published_at && input.signedOn < current.published_at.slice(0, 10))
            throw invalid('The slip is dated before the version in force was published: it is for an earlier text', [
              {
                field: 'signedOn',
                message: `The version in force was published on ${current.published_at.slice(0, 10)}: ask for the current slip to be signed`,
              },
            ]);
          const scan = input.scan
            ? await files.store(trx, context.schoolId, {
                fileName: input.scan.name,
                contentType: sniffContentType(input.scan.data) ?? 'application/octet-stream',
                data: input.scan.data,
                createdBy: context.actor?.kind === 'user' ? context.actor.userId : null,
              })
            : null;
          // Remembered at once, so a failure below removes the file written for it.
          scanId = scan?.id ?? null;
          await repository.insertSignature(trx, {
            school_id: context.schoolId,
            id: newId(),
            template_id: row.id,
            version_id: current.id,
            version: current.version,
            content_hash: current.content_hash,
            person_id: person.id,
            signed_name: input.signedName.trim(),
            job_title: null,
            method: 'paper',
            signed_at: `${input.signedOn}T12:00:00.000Z`,
            ip: null,
            recorded_by: context.actor?.kind === 'user' ? context.actor.userId : null,
            signed_by_person_id: audience === 'parent' ? (input.parentId ?? null) : person.id,
            scan_file_id: scan?.id ?? null,
          });
          await audit.record(
            context,
            'agreement.paper_recorded',
            { type: 'person', id: person.id },
            { audience, version: current.version, scan: Boolean(scan) },
            trx,
          );
        });
      } catch (error) {
        // A scan written for a transaction that then failed is removed.
        if (scanId) files.discard(context.schoolId, scanId);
        throw error;
      }
    },

    /**
     * A visitor or community user gets a time-limited guest access record, with a sponsor, once they
     * have signed the community agreement in force (policy 002).
     */
    async grantGuestAccess(
      context: AuditContext,
      input: { personId: string; sponsor: string; purpose: string; startsOn: string; expiresOn: string },
    ): Promise<void> {
      const fields = [];
      if (!input.sponsor.trim() || input.sponsor.length > 100) fields.push({ field: 'sponsor', message: 'Name the member of staff who sponsors the access' });
      if (!input.purpose.trim() || input.purpose.length > 200) fields.push({ field: 'purpose', message: 'Say what the access is for' });
      if (!isRealDate(input.startsOn)) fields.push({ field: 'startsOn', message: 'Enter the start date' });
      if (!isRealDate(input.expiresOn) || input.expiresOn < input.startsOn)
        fields.push({ field: 'expiresOn', message: 'Enter an end date on or after the start' });
      else if (Date.parse(input.expiresOn) - Date.parse(input.startsOn) > 366 * 86_400_000)
        fields.push({ field: 'expiresOn', message: 'Guest access lasts a year at most: grant it again after that' });
      if (fields.length > 0) throw invalid('There is a problem with the guest access', fields);
      const person = await people.get(context.schoolId, input.personId);
      if (person.kind !== 'visitor')
        throw invalid('Guest access is for visitors and community users', [{ field: 'personId', message: 'Choose a visitor or community user' }]);
      const row = await templateFor(context.schoolId, 'community');
      const current = (await repository.versionsOf(db, context.schoolId, row.id)).find((version) => version.status === 'published');
      const latest = (await repository.signaturesOf(db, context.schoolId, row.id, [person.id]))[0];
      const signed = agreementState(latest, current?.id ?? null, row.renewal_months, clock()) === 'signed';
      if (!signed)
        throw invalid('They must sign the community user agreement in force first', [
          { field: 'personId', message: 'Record their signed community user agreement first' },
        ]);
      await db.transaction().execute(async (trx) => {
        const id = newId();
        await repository.insertGuestAccess(trx, {
          school_id: context.schoolId,
          id,
          person_id: person.id,
          sponsor: input.sponsor.trim(),
          purpose: input.purpose.trim(),
          starts_on: input.startsOn,
          expires_on: input.expiresOn,
          created_by: context.actor?.kind === 'user' ? context.actor.userId : null,
          created_at: isoNow(clock),
          revoked_at: null,
        });
        await audit.record(context, 'guest_access.granted', { type: 'person', id: person.id }, { expiresOn: input.expiresOn }, trx);
      });
    },

    /** Guest access records with their state today. */
    async guestRegister(schoolId: string) {
      const today = isoNow(clock).slice(0, 10);
      const rows = await repository.guestAccess(db, schoolId);
      const persons = await people.getMany(
        schoolId,
        rows.map((row) => row.person_id),
      );
      return rows.map((row) => ({
        ...row,
        person: persons.get(row.person_id),
        state: row.revoked_at ? 'revoked' : row.starts_on > today ? 'not_started' : row.expires_on < today ? 'expired' : 'active',
      }));
    },

    /** Every agreement a person has signed (or a parent signed for them), newest first. */
    async signaturesOfPerson(schoolId: string, personId: string) {
      await ensureDefaults(schoolId);
      const rows = await repository.templates(db, schoolId);
      const signatures = await repository.signaturesOfPerson(db, schoolId, personId);
      return signatures.map((signature) => ({ ...signature, title: rows.find((row) => row.id === signature.template_id)?.title ?? '' }));
    },

    /**
     * Induction letters for a class: one per parent with parental responsibility, each with its own
     * link and QR code; `outstandingOnly` for reminder letters to those whose agreement is not in.
     */
    async lettersForClass(context: AuditContext, className: string, options: { outstandingOnly?: boolean } = {}) {
      if (!className) throw invalid('Enter a class', [{ field: 'class', message: 'Enter the class, for example 3K' }]);
      const pupils = (await people.list(context.schoolId, { kind: 'pupil', status: 'current' }, 1, 5000)).people.filter(
        (pupil) => pupil.className === className,
      );
      if (pupils.length === 0)
        throw invalid(`There are no pupils in class ${className}`, [{ field: 'class', message: `There are no pupils in class ${className}` }]);
      const parentTemplate = await templateFor(context.schoolId, 'parent');
      const current = (await repository.versionsOf(db, context.schoolId, parentTemplate.id)).find((version) => version.status === 'published');
      const signatures = await repository.signaturesOf(
        db,
        context.schoolId,
        parentTemplate.id,
        pupils.map((pupil) => pupil.id),
      );
      const letters = [];
      for (const pupil of pupils.sort((a, b) => a.legalLastName.localeCompare(b.legalLastName))) {
        const latest = signatures.find((signature) => signature.person_id === pupil.id);
        const state = agreementState(latest, current?.id ?? null, parentTemplate.renewal_months, clock());
        if (options.outstandingOnly && state === 'signed') continue;
        for (const parent of (await people.guardiansOf(context.schoolId, pupil.id)).filter((guardian) => guardian.parentalResponsibility)) {
          const url = await this.issueParentLink(context, pupil.id, parent.id);
          // Counts as this week's reminder: the daily job will not email a link that would end this one.
          await repository.recordReminder(db, context.schoolId, parent.id, `parent:${pupil.id}`, isoNow(clock));
          letters.push({ pupil, parent, url, qrSvg: await QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }) });
        }
      }
      return letters;
    },

    /**
     * A class session: the teacher shows the pupils' agreement (KS1 or KS2 by year group) and records
     * each pupil who agrees, in person.
     */
    async classSession(context: AuditContext, className: string) {
      const pupils = (await people.list(context.schoolId, { kind: 'pupil', status: 'current' }, 1, 5000)).people.filter(
        (pupil) => pupil.className === className,
      );
      if (pupils.length === 0) return null;
      // Each pupil agrees to the rules for their own key stage (a mixed Y2/Y3 class sees both texts),
      // exactly as the access register checks them.
      const audienceOf = (yearGroup: number | null): Audience => ((yearGroup ?? 0) <= 2 ? 'pupil_ks1' : 'pupil_ks2');
      const audiencesHere = [...new Set(pupils.map((pupil) => audienceOf(pupil.yearGroup)))].sort();
      const texts: Array<{
        audience: Audience;
        template: Awaited<ReturnType<typeof templateFor>>;
        current: Awaited<ReturnType<typeof repository.versionsOf>>[number];
        html: string;
        signatures: Awaited<ReturnType<typeof repository.signaturesOf>>;
      }> = [];
      for (const audience of audiencesHere) {
        const row = await templateFor(context.schoolId, audience);
        const current = (await repository.versionsOf(db, context.schoolId, row.id)).find((version) => version.status === 'published');
        if (!current) return null;
        const signatures = await repository.signaturesOf(
          db,
          context.schoolId,
          row.id,
          pupils.map((pupil) => pupil.id),
        );
        texts.push({ audience, template: row, current, html: markdown.render(current.body), signatures });
      }
      return {
        texts: texts.map(({ audience, template, current, html }) => ({ audience, template, current, html })),
        pupils: pupils
          .map((pupil) => {
            const text = texts.find((candidate) => candidate.audience === audienceOf(pupil.yearGroup))!;
            return {
              pupil,
              text: { template: text.template, current: text.current },
              signed: text.signatures.some((signature) => signature.person_id === pupil.id && signature.version_id === text.current.id),
            };
          })
          .sort((a, b) => a.pupil.legalLastName.localeCompare(b.pupil.legalLastName)),
      };
    },

    async recordClassAgreements(context: AuditContext, input: { className: string; versionIds: string[]; pupilIds: string[] }): Promise<number> {
      const session = await this.classSession(context, input.className);
      if (!session) throw notFound('class');
      if (session.texts.some((text) => !input.versionIds.includes(text.current.id)))
        throw new AppError('CONFLICT', 'A newer version of the agreement has been published: show the class the new text');
      const inClass = new Map(session.pupils.map((entry) => [entry.pupil.id, entry]));
      const chosen = [...new Set(input.pupilIds)];
      if (chosen.some((id) => !inClass.has(id)))
        throw invalid('Choose pupils from this class', [{ field: 'pupilIds', message: 'Choose pupils from this class' }]);
      const toRecord = chosen.filter((id) => !inClass.get(id)!.signed);
      await db.transaction().execute(async (trx) => {
        for (const pupilId of toRecord) {
          const { text, pupil } = inClass.get(pupilId)!;
          await repository.insertSignature(trx, {
            school_id: context.schoolId,
            id: newId(),
            template_id: text.template.id,
            version_id: text.current.id,
            version: text.current.version,
            content_hash: text.current.content_hash,
            person_id: pupilId,
            signed_name: pupil.displayName,
            job_title: null,
            method: 'class_session',
            signed_at: isoNow(clock),
            ip: null,
            recorded_by: context.actor?.kind === 'user' ? context.actor.userId : null,
            signed_by_person_id: pupilId,
            scan_file_id: null,
          });
        }
        await audit.record(
          context,
          'agreement.class_session',
          null,
          { className: input.className, pupils: toRecord.length, versions: session.texts.map((text) => `${text.audience} v${text.current.version}`) },
          trx,
        );
      });
      return toRecord.length;
    },
  };
}

export type AgreementService = ReturnType<typeof createAgreementService>;
