import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import type { AuditContext, AuditService } from '../audit/service.js';
import type { AuthService, SessionStage } from '../auth/service.js';
import { AppError, invalid, notFound } from '../errors.js';
import type { Mailer } from '../mail.js';
import { isRole, requiresTwoFactor, roleLabels, type Role } from '../roles.js';
import type { SchoolService } from '../schools/service.js';
import * as repository from './repository.js';

export interface UserSummary {
  id: string;
  email: string;
  displayName: string;
  status: 'invited' | 'active' | 'disabled';
  roles: Role[];
  personId: string | null;
  twoFactor: boolean;
  lastSignInAt: string | null;
}

export interface NewUser {
  displayName: string;
  email: string;
  roles: Role[];
  personId?: string | null | undefined;
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function createUserService(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  auth: AuthService;
  schools: SchoolService;
  mailer: Mailer;
  publicUrl: string;
}) {
  const { handle, clock, audit, auth, schools, mailer, publicUrl } = deps;
  const { db } = handle;

  function validateNewUser(input: NewUser) {
    const fields = [];
    if (!input.displayName.trim()) fields.push({ field: 'displayName', message: 'Enter the person’s full name' });
    if (!emailPattern.test(input.email.trim()))
      fields.push({ field: 'email', message: 'Enter an email address in the correct format, like name@example.sch.uk' });
    if (input.roles.length === 0) fields.push({ field: 'roles', message: 'Select at least one role' });
    if (fields.length > 0) throw invalid('There is a problem with the account details', fields);
  }

  async function insertAccount(trx: DbOrTrx, schoolId: string, input: NewUser, status: 'invited' | 'active', passwordHash: string | null) {
    const email = input.email.trim().toLowerCase();
    if (await repository.findUserByEmail(trx, email)) {
      throw new AppError('CONFLICT', 'An account with this email address already exists', [
        { field: 'email', message: 'An account with this email address already exists' },
      ]);
    }
    const now = isoNow(clock);
    const id = newId();
    await repository.insertUser(trx, {
      school_id: schoolId,
      id,
      email,
      display_name: input.displayName.trim(),
      person_id: input.personId ?? null,
      status,
      password_hash: passwordHash,
      password_changed_at: passwordHash ? now : null,
      totp_secret: null,
      totp_enabled_at: null,
      totp_last_step: null,
      failed_sign_ins: 0,
      locked_until: null,
      last_sign_in_at: null,
      created_at: now,
      updated_at: now,
    });
    await repository.replaceRoles(trx, schoolId, id, input.roles);
    if (passwordHash) await repository.addPasswordHistory(trx, { school_id: schoolId, user_id: id, id: newId(), password_hash: passwordHash, created_at: now });
    return id;
  }

  async function get(schoolId: string, userId: string): Promise<UserSummary> {
    const row = await repository.findUser(db, schoolId, userId);
    if (!row) throw notFound('account');
    const roles = (await repository.rolesOf(db, schoolId, userId)).filter(isRole);
    return toSummary(row, roles);
  }

  function toSummary(
    row: {
      id: string;
      email: string;
      display_name: string;
      status: string;
      person_id: string | null;
      totp_enabled_at: string | null;
      last_sign_in_at: string | null;
    },
    roles: Role[],
  ): UserSummary {
    return {
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      status: row.status as UserSummary['status'],
      roles,
      personId: row.person_id,
      twoFactor: row.totp_enabled_at !== null,
      lastSignInAt: row.last_sign_in_at,
    };
  }

  return {
    get,

    async list(schoolId: string): Promise<UserSummary[]> {
      const rows = await repository.listUsers(db, schoolId);
      const roles = await repository.rolesByUser(db, schoolId);
      return rows.map((row) => toSummary(row, (roles.get(row.id) ?? []).filter(isRole)));
    },

    /** An account with a password (first headteacher at set-up, the CLI, the demo). */
    async createWithPassword(trx: DbOrTrx, schoolId: string, input: NewUser & { password: string }, context: AuditContext): Promise<string> {
      validateNewUser(input);
      const school = await schools.get(schoolId, trx);
      {
        const problems = await auth.passwordProblems(school, schoolId, null, input.email, input.password);
        if (problems.length > 0)
          throw invalid(
            problems[0]!,
            problems.map((message) => ({ field: 'password', message })),
          );
      }
      const hash = await auth.hashPassword(input.password);
      const id = await insertAccount(trx, schoolId, input, 'active', hash);
      await audit.record(context, 'user.created', { type: 'user', id }, { roles: input.roles }, trx);
      return id;
    },

    /** Invites someone by a single-use, expiring link sent by email (and shown when mail is not set up). */
    async invite(schoolId: string, input: NewUser, context: AuditContext): Promise<{ userId: string; link: string }> {
      validateNewUser(input);
      const userId = await db.transaction().execute(async (trx) => {
        const id = await insertAccount(trx, schoolId, input, 'invited', null);
        await audit.record(context, 'user.invited', { type: 'user', id }, { roles: input.roles }, trx);
        return id;
      });
      const link = await this.sendInvitation(schoolId, userId, context);
      return { userId, link };
    },

    async sendInvitation(schoolId: string, userId: string, context: AuditContext): Promise<string> {
      const user = await get(schoolId, userId);
      if (user.status !== 'invited') throw invalid('This person has already accepted their invitation');
      const school = await schools.get(schoolId);
      const token = await auth.issueOneTimeToken(schoolId, userId, 'invitation', context.actor?.kind === 'user' ? context.actor.userId : null);
      const link = `${publicUrl}/invitations/${token}`;
      await mailer.send({
        schoolId,
        to: user.email,
        subject: `Your Haven account for ${school.name}`,
        text: `Hello ${user.displayName},\n\nYou have been invited to Haven, ${school.name}'s online-safety system, as: ${user.roles.map((r) => roleLabels[r]).join(', ')}.\n\nSet your password within 7 days using this link (it works once):\n${link}\n\nIf you were not expecting this, you can ignore this email.`,
        // Without SMTP the headteacher passes invitations on from the outbox; once sent, the link is dropped.
        secret: { value: link, keepUntilSent: true },
      });
      return link;
    },

    /** Accepting an invitation sets the password; two-factor roles go straight on to enrolment. */
    async acceptInvitation(token: string, password: string, meta: { ip?: string | undefined; userAgent?: string | undefined }) {
      const { schoolId, tokenId, user } = await auth.checkOneTimeToken(token, 'invitation');
      const context: AuditContext = { schoolId, ip: meta.ip, actor: { kind: 'user', schoolId, userId: user.id, displayName: user.display_name, roles: [] } };
      await auth.checkNewPassword(schoolId, user.id, password);
      // Spending the link and setting the password happen together or not at all.
      await db.transaction().execute(async (trx) => {
        if (!(await auth.spendOneTimeToken(schoolId, tokenId, trx))) throw new AppError('NOT_FOUND', 'This link has already been used.');
        await auth.storePassword(trx, schoolId, user.id, password, context);
        await repository.updateUser(trx, schoolId, user.id, { status: 'active', updated_at: isoNow(clock) });
        await audit.record(context, 'user.invitation_accepted', { type: 'user', id: user.id }, {}, trx);
      });
      const roles = (await repository.rolesOf(db, schoolId, user.id)).filter(isRole);
      const stage: SessionStage = requiresTwoFactor(roles) ? 'enrol' : 'full';
      return { token: await auth.createSession(schoolId, user.id, stage, meta), stage };
    },

    /**
     * Always answers the same way, and at the same speed: the work for a real account happens after
     * the caller has answered, so neither the page nor its timing reveals which addresses have accounts.
     */
    requestPasswordReset(email: string, ip: string | undefined, onError: (error: unknown) => void): void {
      const work = async () => {
        const user = await repository.findUserByEmail(db, email);
        if (!user || user.status !== 'active') return;
        const context: AuditContext = { schoolId: user.school_id, ip };
        const token = await auth.issueOneTimeToken(user.school_id, user.id, 'password-reset', null);
        const link = `${publicUrl}/password-reset/${token}`;
        await mailer.send({
          schoolId: user.school_id,
          to: user.email,
          subject: 'Reset your Haven password',
          text: `Hello ${user.display_name},\n\nSomeone asked to reset the password for your Haven account. Use this link within 2 hours (it works once):\n${link}\n\nIf it was not you, ignore this email: your password has not changed.`,
          // Nobody but the account holder may see a reset link, so the outbox never keeps it.
          secret: { value: link, keepUntilSent: false },
        });
        await audit.record(context, 'auth.password_reset_requested', { type: 'user', id: user.id });
      };
      setImmediate(() => void work().catch(onError));
    },

    async resetPassword(token: string, password: string, ip: string | undefined): Promise<void> {
      const { schoolId, tokenId, user } = await auth.checkOneTimeToken(token, 'password-reset');
      const context: AuditContext = { schoolId, ip, actor: { kind: 'user', schoolId, userId: user.id, displayName: user.display_name, roles: [] } };
      await auth.checkNewPassword(schoolId, user.id, password);
      await db.transaction().execute(async (trx) => {
        if (!(await auth.spendOneTimeToken(schoolId, tokenId, trx))) throw new AppError('NOT_FOUND', 'This link has already been used.');
        await auth.storePassword(trx, schoolId, user.id, password, context);
        // A reset ends every session, in case the old password was known to someone else.
        await repository.deleteSessionsOfUser(trx, schoolId, user.id);
        await repository.updateUser(trx, schoolId, user.id, { failed_sign_ins: 0, locked_until: null });
      });
    },

    /** Leavers and compromised accounts: the account and every session stop at once. */
    async disable(schoolId: string, userId: string, context: AuditContext, trx?: DbOrTrx): Promise<void> {
      const run = async (t: DbOrTrx) => {
        const user = await repository.findUser(t, schoolId, userId);
        if (!user) throw notFound('account');
        await repository.updateUser(t, schoolId, userId, { status: 'disabled', updated_at: isoNow(clock) });
        const sessions = await repository.deleteSessionsOfUser(t, schoolId, userId);
        await audit.record(context, 'user.disabled', { type: 'user', id: userId }, { sessionsEnded: sessions }, t);
      };
      if (trx) await run(trx);
      else await db.transaction().execute(run);
    },

    async enable(schoolId: string, userId: string, context: AuditContext): Promise<void> {
      const user = await repository.findUser(db, schoolId, userId);
      if (!user) throw notFound('account');
      await repository.updateUser(db, schoolId, userId, { status: user.password_hash ? 'active' : 'invited', updated_at: isoNow(clock) });
      await audit.record(context, 'user.enabled', { type: 'user', id: userId });
    },

    /** For a lost phone: clears the authenticator and recovery codes; enrolment happens at next sign-in. */
    async resetTwoFactor(schoolId: string, userId: string, context: AuditContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const user = await repository.findUser(trx, schoolId, userId);
        if (!user) throw notFound('account');
        await repository.updateUser(trx, schoolId, userId, { totp_secret: null, totp_enabled_at: null, totp_last_step: null, updated_at: isoNow(clock) });
        await repository.replaceRecoveryCodes(trx, schoolId, userId, []);
        await repository.deleteSessionsOfUser(trx, schoolId, userId);
        await audit.record(context, 'user.two_factor_reset', { type: 'user', id: userId }, {}, trx);
      });
    },

    async setRoles(schoolId: string, userId: string, roles: Role[], context: AuditContext): Promise<void> {
      if (roles.length === 0) throw invalid('Select at least one role', [{ field: 'roles', message: 'Select at least one role' }]);
      await db.transaction().execute(async (trx) => {
        const user = await repository.findUser(trx, schoolId, userId);
        if (!user) throw notFound('account');
        const before = await repository.rolesOf(trx, schoolId, userId);
        await repository.replaceRoles(trx, schoolId, userId, roles);
        await audit.record(context, 'user.roles_changed', { type: 'user', id: userId }, { before, after: roles }, trx);
      });
    },

    async findByEmail(email: string) {
      const row = await repository.findUserByEmail(db, email);
      return row ? get(row.school_id, row.id).then((summary) => ({ schoolId: row.school_id, ...summary })) : undefined;
    },

    async findByPerson(schoolId: string, personId: string, trx: DbOrTrx = db) {
      const row = await repository.findUserByPerson(trx, schoolId, personId);
      return row ? { id: row.id, status: row.status, email: row.email } : undefined;
    },

    /** The person an account is linked to, read in the caller's transaction (null when none). */
    async personIdOf(trx: DbOrTrx, schoolId: string, userId: string): Promise<string | null> {
      return (await repository.findUser(trx, schoolId, userId))?.person_id ?? null;
    },

    /** Links an account to its person record (e.g. when a member of staff first signs an agreement). */
    async linkPerson(trx: DbOrTrx, schoolId: string, userId: string, personId: string): Promise<void> {
      await repository.updateUser(trx, schoolId, userId, { person_id: personId, updated_at: isoNow(clock) });
    },

    async unusedRecoveryCodes(schoolId: string, userId: string) {
      return repository.countUnusedRecoveryCodes(db, schoolId, userId);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
