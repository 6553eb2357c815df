import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import type { AuditContext, AuditService } from '../audit/service.js';
import { decryptText, deriveKey, encryptText, randomToken, sha256Hex } from '../crypto.js';
import { AppError, invalid } from '../errors.js';
import type { Actor } from '../permissions.js';
import { isRole, requiresTwoFactor, type Role } from '../roles.js';
import type { School, SchoolService } from '../schools/service.js';
import * as users from '../users/repository.js';
import { checkPasswordRules, type PasswordHasher } from './passwords.js';
import { matchTotp, newTotpSecret, totpCode, totpQrSvg, totpUri } from './totp.js';

/** Where a signed-in session is: password checked, code still needed, or fully signed in. */
export type SessionStage = 'second-factor' | 'enrol' | 'full';

export interface SignedInUser {
  id: string;
  email: string;
  displayName: string;
  personId: string | null;
  totpEnabled: boolean;
  roles: Role[];
  passwordExpired: boolean;
}

export interface LoadedSession {
  schoolId: string;
  sessionId: string;
  stage: SessionStage;
  user: SignedInUser;
  school: School;
  actor: Actor;
}

export const maxFailedSignIns = 5;
export const lockoutMinutes = 15;
const invitationDays = 7;
const resetHours = 2;

function splitToken(token: string): { schoolId: string; secret: string } | null {
  const dot = token.indexOf('.');
  if (dot < 1) return null;
  const schoolId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^[0-9a-f-]{36}$/.test(schoolId) || secret.length < 20 || secret.length > 100) return null;
  return { schoolId, secret };
}

export function createAuthService(deps: {
  handle: DatabaseHandle;
  secret: string;
  clock: () => Date;
  audit: AuditService;
  schools: SchoolService;
  passwords: PasswordHasher;
}) {
  const { handle, clock, audit, schools, passwords } = deps;
  const { db } = handle;
  const fieldKey = deriveKey(deps.secret, 'field-encryption');

  let dummyHash: Promise<string> | undefined;
  const minutesFrom = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

  async function passwordProblems(school: School, schoolId: string, userId: string | null, email: string, password: string): Promise<string[]> {
    const problems = checkPasswordRules(password, school.settings, { email, schoolName: school.name });
    if (problems.length === 0 && userId) {
      for (const old of await users.recentPasswordHashes(db, schoolId, userId, school.settings.passwordHistory)) {
        if (await passwords.verify(password, old)) {
          problems.push(`Password must not be one of your last ${school.settings.passwordHistory} passwords`);
          break;
        }
      }
    }
    return problems;
  }

  async function createSession(schoolId: string, userId: string, stage: SessionStage, meta: { ip?: string | undefined; userAgent?: string | undefined }) {
    const secret = randomToken();
    const now = isoNow(clock);
    await users.insertSession(db, {
      school_id: schoolId,
      id: sha256Hex(secret),
      user_id: userId,
      stage,
      created_at: now,
      last_seen_at: now,
      ip: meta.ip ?? null,
      user_agent: meta.userAgent?.slice(0, 300) ?? null,
    });
    return `${schoolId}.${secret}`;
  }

  async function issueRecoveryCodes(trx: DbOrTrx, schoolId: string, userId: string): Promise<string[]> {
    const codes = Array.from({ length: 10 }, () => randomToken(6).replace(/[-_]/g, 'x').slice(0, 8).toLowerCase());
    await users.replaceRecoveryCodes(
      trx,
      schoolId,
      userId,
      codes.map((code) => sha256Hex(code)),
    );
    return codes.map((code) => `${code.slice(0, 4)}-${code.slice(4)}`);
  }

  return {
    passwordProblems,
    createSession,

    hashPassword: (password: string) => passwords.hash(password),

    /** Checks email and password; locks the account for a while after repeated failures (audited). */
    async signIn(email: string, password: string, meta: { ip?: string | undefined; userAgent?: string | undefined; previous?: LoadedSession | null }) {
      const failure = new AppError('UNAUTHENTICATED', 'Enter a correct email address and password');
      const user = await users.findUserByEmail(db, email);
      if (!user?.password_hash) {
        // Spend the same time as a real check so response time does not reveal which emails exist.
        dummyHash ??= passwords.hash('not-a-real-password');
        await passwords.verify(password, await dummyHash);
        throw failure;
      }
      const context: AuditContext = {
        schoolId: user.school_id,
        ip: meta.ip,
        actor: { kind: 'user', schoolId: user.school_id, userId: user.id, displayName: user.display_name, roles: [] },
      };
      const now = isoNow(clock);
      if (user.locked_until && user.locked_until > now) {
        await audit.record(context, 'auth.sign_in_refused_locked', { type: 'user', id: user.id });
        throw new AppError(
          'RATE_LIMITED',
          `This account is locked after too many failed sign-in attempts. Try again after ${new Date(user.locked_until).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' })}.`,
        );
      }
      if (user.status !== 'active') {
        await audit.record(context, 'auth.sign_in_refused_disabled', { type: 'user', id: user.id });
        throw failure;
      }
      if (!(await passwords.verify(password, user.password_hash))) {
        const failed = user.failed_sign_ins + 1;
        const lock = failed >= maxFailedSignIns;
        await db.transaction().execute(async (trx) => {
          await users.updateUser(trx, user.school_id, user.id, {
            failed_sign_ins: lock ? 0 : failed,
            locked_until: lock ? minutesFrom(now, lockoutMinutes) : user.locked_until,
          });
          await audit.record(context, lock ? 'auth.locked_out' : 'auth.sign_in_failed', { type: 'user', id: user.id }, { failedAttempts: failed }, trx);
        });
        throw failure;
      }
      const roles = (await users.rolesOf(db, user.school_id, user.id)).filter(isRole);
      const stage: SessionStage = user.totp_enabled_at ? 'second-factor' : requiresTwoFactor(roles) ? 'enrol' : 'full';
      // The failure count is cleared only once sign-in is complete: a right password with a code
      // still owed must not reset the count of wrong codes.
      if (stage === 'full') await users.updateUser(db, user.school_id, user.id, { failed_sign_ins: 0, locked_until: null, last_sign_in_at: now });
      // A new session id at every sign-in (no fixation); any session this browser had ends.
      if (meta.previous) await users.deleteSession(db, meta.previous.schoolId, meta.previous.sessionId);
      const token = await createSession(user.school_id, user.id, stage, meta);
      await audit.record(context, stage === 'full' ? 'auth.signed_in' : 'auth.password_accepted', { type: 'user', id: user.id });
      return { token, stage };
    },

    /** Resolves a session cookie, applying the idle and absolute timeouts and the account's status. */
    async loadSession(cookie: string | undefined): Promise<LoadedSession | null> {
      if (!cookie) return null;
      const parts = splitToken(cookie);
      if (!parts) return null;
      const sessionId = sha256Hex(parts.secret);
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', (join) => join.onRef('users.school_id', '=', 'sessions.school_id').onRef('users.id', '=', 'sessions.user_id'))
        .select([
          'sessions.stage',
          'sessions.created_at',
          'sessions.last_seen_at',
          'users.id as user_id',
          'users.email',
          'users.display_name',
          'users.person_id',
          'users.status',
          'users.totp_enabled_at',
          'users.password_changed_at',
        ])
        .where('sessions.school_id', '=', parts.schoolId)
        .where('sessions.id', '=', sessionId)
        .executeTakeFirst();
      if (!row) return null;
      const school = await schools.find(parts.schoolId);
      if (!school) return null;
      const now = clock();
      const idleLimit = Date.parse(row.last_seen_at) + school.settings.sessionIdleMinutes * 60_000;
      const absoluteLimit = Date.parse(row.created_at) + school.settings.sessionAbsoluteHours * 3_600_000;
      if (row.status !== 'active' || now.getTime() > idleLimit || now.getTime() > absoluteLimit) {
        await users.deleteSession(db, parts.schoolId, sessionId);
        return null;
      }
      // Touch at most every 30 s: enough precision for a 15-minute idle timeout, far fewer writes.
      if (now.getTime() - Date.parse(row.last_seen_at) > 30_000) {
        await users.updateSession(db, parts.schoolId, sessionId, { last_seen_at: now.toISOString() });
      }
      const roles = (await users.rolesOf(db, parts.schoolId, row.user_id)).filter(isRole);
      let stage = row.stage as SessionStage;
      if (stage === 'full' && row.totp_enabled_at === null && requiresTwoFactor(roles)) {
        // Given a role that reads safeguarding records: no further access until two-factor is set up.
        stage = 'enrol';
        await users.updateSession(db, parts.schoolId, sessionId, { stage });
      }
      const expiryDays = school.settings.passwordExpiryDays;
      const passwordExpired =
        expiryDays > 0 && row.password_changed_at !== null && Date.parse(row.password_changed_at) + expiryDays * 86_400_000 < now.getTime();
      return {
        schoolId: parts.schoolId,
        sessionId,
        stage,
        school,
        user: {
          id: row.user_id,
          email: row.email,
          displayName: row.display_name,
          personId: row.person_id,
          totpEnabled: row.totp_enabled_at !== null,
          roles,
          passwordExpired,
        },
        actor: { kind: 'user', schoolId: parts.schoolId, userId: row.user_id, displayName: row.display_name, roles },
      };
    },

    async signOut(session: LoadedSession, context: AuditContext): Promise<void> {
      await users.deleteSession(db, session.schoolId, session.sessionId);
      await audit.record(context, 'auth.signed_out', { type: 'user', id: session.user.id });
    },

    async signOutEverywhere(session: LoadedSession, context: AuditContext): Promise<number> {
      const count = await users.deleteSessionsOfUser(db, session.schoolId, session.user.id);
      await audit.record(context, 'auth.signed_out_everywhere', { type: 'user', id: session.user.id }, { sessions: count });
      return count;
    },

    /** Second step of sign-in: a TOTP code, or a single-use recovery code. */
    async completeSecondFactor(session: LoadedSession, code: string, context: AuditContext): Promise<void> {
      const user = await users.findUser(db, session.schoolId, session.user.id);
      if (!user?.totp_secret || !user.totp_enabled_at) throw invalid('Two-factor sign-in is not set up for this account');
      const now = clock();
      const cleaned = code.trim().toLowerCase();
      let accepted = false;
      let method = 'totp';
      if (/^[a-z0-9]{4}-?[a-z0-9]{4}$/.test(cleaned) && !/^\d{6}$/.test(cleaned)) {
        method = 'recovery-code';
        accepted = await users.useRecoveryCode(db, session.schoolId, user.id, sha256Hex(cleaned.replace('-', '')), now.toISOString());
      } else {
        const step = matchTotp(decryptText(fieldKey, user.totp_secret), cleaned, now);
        // Claimed with a conditional update, so two requests racing with one code cannot both win.
        if (step !== null) accepted = await users.claimTotpStep(db, session.schoolId, user.id, step);
      }
      if (!accepted) {
        // Wrong codes count towards the same lock-out as wrong passwords, so codes cannot be guessed.
        const failed = user.failed_sign_ins + 1;
        const lock = failed >= maxFailedSignIns;
        await db.transaction().execute(async (trx) => {
          await users.updateUser(trx, session.schoolId, user.id, {
            failed_sign_ins: lock ? 0 : failed,
            ...(lock ? { locked_until: minutesFrom(now.toISOString(), lockoutMinutes) } : {}),
          });
          if (lock) await users.deleteSessionsOfUser(trx, session.schoolId, user.id);
          await audit.record(
            context,
            lock ? 'auth.locked_out' : 'auth.second_factor_failed',
            { type: 'user', id: user.id },
            { method, failedAttempts: failed },
            trx,
          );
        });
        if (lock) throw new AppError('RATE_LIMITED', 'Too many wrong codes: this account is locked for 15 minutes. Sign in again after that.');
        throw invalid('The code is wrong or has already been used', [
          { field: 'code', message: 'Enter the 6-digit code from your authenticator app, or a recovery code' },
        ]);
      }
      await users.updateSession(db, session.schoolId, session.sessionId, { stage: 'full' });
      await users.updateUser(db, session.schoolId, user.id, { last_sign_in_at: now.toISOString(), failed_sign_ins: 0 });
      await audit.record(context, 'auth.signed_in', { type: 'user', id: user.id }, { method });
    },

    /** Starts (or restarts) enrolment: a new secret, kept encrypted until a code confirms it. */
    async beginEnrolment(session: LoadedSession) {
      const user = await users.findUser(db, session.schoolId, session.user.id);
      if (!user) throw invalid('Account not found');
      // Never replace an enrolled authenticator here: that would let a password alone through.
      if (user.totp_enabled_at || session.stage === 'second-factor') throw new AppError('FORBIDDEN', 'Two-factor sign-in is already set up for this account');
      let secret: string;
      if (user.totp_secret && !user.totp_enabled_at) {
        secret = decryptText(fieldKey, user.totp_secret);
      } else {
        secret = newTotpSecret();
        await users.updateUser(db, session.schoolId, user.id, { totp_secret: encryptText(fieldKey, secret), totp_enabled_at: null });
      }
      const uri = totpUri(secret, `${session.school.name} (${user.email})`);
      return { secret, uri, qrSvg: await totpQrSvg(uri) };
    },

    /** Confirms enrolment with a code; returns the recovery codes, shown once. */
    async confirmEnrolment(session: LoadedSession, code: string, context: AuditContext): Promise<string[]> {
      const user = await users.findUser(db, session.schoolId, session.user.id);
      if (!user?.totp_secret || user.totp_enabled_at) throw invalid('Start setting up two-factor sign-in again');
      const now = clock();
      const step = matchTotp(decryptText(fieldKey, user.totp_secret), code, now);
      if (step === null) {
        throw invalid('The code is wrong', [{ field: 'code', message: 'Enter the 6-digit code your authenticator app shows now' }]);
      }
      return db.transaction().execute(async (trx) => {
        await users.updateUser(trx, session.schoolId, user.id, { totp_enabled_at: now.toISOString(), totp_last_step: step, updated_at: now.toISOString() });
        await users.updateSession(trx, session.schoolId, session.sessionId, { stage: 'full' });
        await audit.record(context, 'auth.two_factor_enrolled', { type: 'user', id: user.id }, {}, trx);
        return issueRecoveryCodes(trx, session.schoolId, user.id);
      });
    },

    /** Checks a signed-in user's current password, with no other effect. */
    async verifyPassword(schoolId: string, userId: string, password: string): Promise<boolean> {
      const user = await users.findUser(db, schoolId, userId);
      return Boolean(user?.password_hash) && (await passwords.verify(password, user!.password_hash!));
    },

    /** Ends every session of a user except the one given (after a password change). */
    async endOtherSessions(schoolId: string, userId: string, keepSessionId: string): Promise<void> {
      await users.deleteOtherSessionsOfUser(db, schoolId, userId, keepSessionId);
    },

    /** Checks a new password against the school's rules and the account's recent passwords. */
    async checkNewPassword(schoolId: string, userId: string, password: string): Promise<void> {
      const user = await users.findUser(db, schoolId, userId);
      const school = await schools.get(schoolId);
      if (!user) throw invalid('Account not found');
      const problems = await passwordProblems(school, schoolId, userId, user.email, password);
      if (problems.length > 0)
        throw invalid(
          problems[0]!,
          problems.map((message) => ({ field: 'password', message })),
        );
    },

    /** Writes a password already checked by checkNewPassword, inside the caller's transaction. */
    async storePassword(trx: DbOrTrx, schoolId: string, userId: string, password: string, context: AuditContext): Promise<void> {
      const hash = await passwords.hash(password);
      const now = isoNow(clock);
      await users.updateUser(trx, schoolId, userId, { password_hash: hash, password_changed_at: now, updated_at: now });
      await users.addPasswordHistory(trx, { school_id: schoolId, user_id: userId, id: newId(), password_hash: hash, created_at: now });
      await audit.record(context, 'auth.password_changed', { type: 'user', id: userId }, {}, trx);
    },

    /** Sets a new password after checking the school's rules and history. */
    async changePassword(schoolId: string, userId: string, password: string, context: AuditContext): Promise<void> {
      await this.checkNewPassword(schoolId, userId, password);
      await db.transaction().execute((trx) => this.storePassword(trx, schoolId, userId, password, context));
    },

    /** A single-use, expiring link token; only its hash is stored. */
    async issueOneTimeToken(schoolId: string, userId: string, purpose: 'invitation' | 'password-reset', createdBy: string | null): Promise<string> {
      const secret = randomToken();
      const now = isoNow(clock);
      const hours = purpose === 'invitation' ? invitationDays * 24 : resetHours;
      await users.revokeOneTimeTokens(db, schoolId, userId, purpose, now);
      await users.insertOneTimeToken(db, {
        school_id: schoolId,
        id: sha256Hex(secret),
        purpose,
        user_id: userId,
        created_by: createdBy,
        created_at: now,
        expires_at: minutesFrom(now, hours * 60),
        used_at: null,
      });
      return `${schoolId}.${secret}`;
    },

    /** Looks a link token up without spending it; explains clearly why one is refused. */
    async checkOneTimeToken(token: string, purpose: 'invitation' | 'password-reset') {
      const parts = splitToken(token);
      const refused = (reason: string) => new AppError('NOT_FOUND', reason);
      if (!parts) throw refused('This link is not valid. Check you copied the whole link from the email.');
      const row = await users.findOneTimeToken(db, parts.schoolId, sha256Hex(parts.secret));
      if (!row || row.purpose !== purpose) throw refused('This link is not valid. Check you copied the whole link from the email.');
      if (row.used_at) throw refused('This link has already been used. Ask for a new one if you still need it.');
      if (row.expires_at < isoNow(clock)) throw refused('This link has expired. Ask for a new one.');
      const user = await users.findUser(db, parts.schoolId, row.user_id);
      if (!user || user.status === 'disabled') throw refused('This link is no longer valid.');
      return { schoolId: parts.schoolId, tokenId: row.id, user };
    },

    /** Only for a school created by `haven demo`: the current code, shown on the sign-in page. */
    async demoCode(schoolId: string, userId: string): Promise<string | undefined> {
      const school = await schools.find(schoolId);
      const user = await users.findUser(db, schoolId, userId);
      if (!school?.isDemo || !user?.totp_secret) return undefined;
      return totpCode(decryptText(fieldKey, user.totp_secret), clock());
    },

    /** Enrols a known secret directly (demo school and CLI only; people enrol through the web page). */
    async enrolSecret(trx: DbOrTrx, schoolId: string, userId: string, secretBase32: string): Promise<void> {
      await users.updateUser(trx, schoolId, userId, { totp_secret: encryptText(fieldKey, secretBase32), totp_enabled_at: isoNow(clock) });
    },

    async spendOneTimeToken(schoolId: string, tokenId: string, trx: DbOrTrx = db): Promise<boolean> {
      return users.spendOneTimeToken(trx, schoolId, tokenId, isoNow(clock));
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
