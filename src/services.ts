import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { createAccessRegister } from './features/agreements/access-register.js';
import { createAgreementService } from './features/agreements/service.js';
import { createConsentService } from './features/consents/service.js';
import { createVideoLog } from './features/consents/video-log.js';
import { createFilteringService } from './features/filtering/service.js';
import { createIncidentService } from './features/incidents/service.js';
import { createMonitoringService } from './features/monitoring/service.js';
import { createPeopleService } from './features/people/service.js';
import { createFileStore } from './platform/files.js';
import { createJobScheduler } from './platform/jobs.js';
import { createNotificationService } from './platform/notifications/service.js';
import { createAuditService } from './platform/audit/service.js';
import { createApiTokenService } from './platform/auth/api-tokens.js';
import { createPasswordHasher } from './platform/auth/passwords.js';
import { createAuthService } from './platform/auth/service.js';
import { createMailer } from './platform/mail.js';
import { createSchoolService } from './platform/schools/service.js';
import { createUserService } from './platform/users/service.js';

export interface ServiceDeps {
  config: Config;
  handle: DatabaseHandle;
  clock?: () => Date;
  /** scrypt cost as log2(N); tests lower it to keep the suite fast. */
  passwordCost?: number;
  /** Where a failed background job is reported (the server logs it). */
  onJobError?: (job: string, error: unknown) => void;
}

/** The one composition root: every service is built once here. */
export function createServices(deps: ServiceDeps) {
  const { config, handle } = deps;
  const clock = deps.clock ?? (() => new Date());
  const audit = createAuditService(handle, clock);
  const schools = createSchoolService(handle, clock);
  const mailer = createMailer(handle, { smtpUrl: config.smtpUrl, from: config.mailFrom }, clock);
  const auth = createAuthService({ handle, secret: config.secret, clock, audit, schools, passwords: createPasswordHasher({ cost: deps.passwordCost ?? 16 }) });
  const users = createUserService({ handle, clock, audit, auth, schools, mailer, publicUrl: config.publicUrl });
  const apiTokens = createApiTokenService(handle, audit, clock);
  const people = createPeopleService({ handle, clock, audit, users });
  const notifications = createNotificationService(handle, clock);
  const files = createFileStore({ handle, dataDir: config.dataDir, secret: config.secret, clock });
  const incidents = createIncidentService({ handle, clock, audit, people, users, notifications, mailer, files, publicUrl: config.publicUrl });
  const agreements = createAgreementService({ handle, clock, audit, people, users, notifications, files, publicUrl: config.publicUrl });
  const accessRegister = createAccessRegister({
    handle,
    clock,
    audit,
    people,
    users,
    mailer,
    notifications,
    ensureDefaults: (schoolId) => agreements.ensureDefaults(schoolId),
    issueParentLink: (context, pupilId, parentId) => agreements.issueParentLink(context, pupilId, parentId),
    publicUrl: config.publicUrl,
  });
  people.useClearance((schoolId, personIds) => accessRegister.clearanceFor(schoolId, personIds));
  const consents = createConsentService({
    handle,
    clock,
    audit,
    people,
    schools,
    mailer,
    links: {
      issue: (context, pupilId, parentId, purpose) => agreements.issueParentLink(context, pupilId, parentId, purpose),
      check: (token, purpose) => agreements.checkParentLink(token, purpose),
      spend: (trx, schoolId, linkId) => agreements.spendParentLink(trx, schoolId, linkId),
    },
  });

  const videoLog = createVideoLog({ handle, clock, audit, people, users, consents, notifications });
  const filtering = createFilteringService({
    handle,
    clock,
    audit,
    people,
    users,
    schools,
    notifications,
    dataDir: config.dataDir,
    secret: config.secret,
    publicUrl: config.publicUrl,
  });

  const monitoring = createMonitoringService({
    handle,
    clock,
    audit,
    schools,
    people,
    users,
    notifications,
    mailer,
    incidents,
    filtering,
    publicUrl: config.publicUrl,
  });

  const jobs = createJobScheduler({ handle, clock, onError: deps.onJobError });
  jobs.register({
    // Alerts below severity 4 reach the DSLs and the e-safety lead as a digest, not one by one.
    name: 'monitoring-digest',
    everyMinutes: 60,
    run: async () => {
      let alerts = 0;
      for (const school of await schools.list()) alerts += await monitoring.sendDigest(school.id);
      return `${alerts} alerts in digests`;
    },
  });
  jobs.register({
    // Policy 003: 90 days of searchable history by default; raw web activity is then purged (DESIGN.md).
    name: 'monitoring-retention',
    everyMinutes: 24 * 60,
    run: async () => {
      let events = 0;
      let days = 0;
      for (const school of await schools.list()) {
        const purged = await monitoring.purge(school.id);
        events += purged.events;
        days += purged.days;
      }
      return `Purged ${events} events and ${days} daily counts`;
    },
  });
  jobs.register({
    name: 'filter-exceptions',
    everyMinutes: 5,
    run: async () => {
      let ended = 0;
      for (const school of await schools.list()) ended += await filtering.expireExceptions(school.id);
      return `${ended} exceptions ended`;
    },
  });
  jobs.register({
    name: 'filter-imports',
    everyMinutes: 30,
    run: async () => {
      let imported = 0;
      for (const school of await schools.list()) imported += await filtering.runScheduledImports(school.id);
      return `${imported} lists re-imported`;
    },
  });
  jobs.register({
    // The DfE standard asks for regular checks that filtering works: every group, every week.
    name: 'filter-checks',
    everyMinutes: 7 * 24 * 60,
    run: async () => {
      let failed = 0;
      let runs = 0;
      for (const school of await schools.list()) {
        for (const policy of await filtering.policies(school.id)) {
          const outcome = await filtering.runCheck(
            { schoolId: school.id },
            { groupCode: policy.group_code, location: 'Haven (scheduled check of the decision engine)' },
          );
          failed += outcome.failed;
          runs += 1;
        }
      }
      return `${runs} checks, ${failed} failed probes`;
    },
  });
  jobs.register({
    // People join, leave and sign agreements all day: recompile so user names map to the right policy.
    name: 'filter-recompile',
    everyMinutes: 15,
    run: async () => {
      const schoolList = await schools.list();
      for (const school of schoolList) await filtering.compile(school.id);
      return `Recompiled ${schoolList.length} snapshots`;
    },
  });
  jobs.register({
    name: 'agreement-reminders',
    everyMinutes: 24 * 60,
    run: async () => {
      let staff = 0;
      let parents = 0;
      for (const school of await schools.list()) {
        const sent = await accessRegister.sendReminders({ schoolId: school.id });
        staff += sent.staff;
        parents += sent.parents;
      }
      return `Reminded ${staff} staff and ${parents} parents`;
    },
  });
  return {
    config,
    handle,
    clock,
    audit,
    schools,
    mailer,
    auth,
    users,
    apiTokens,
    people,
    notifications,
    files,
    incidents,
    agreements,
    accessRegister,
    consents,
    videoLog,
    filtering,
    monitoring,
    jobs,
  };
}

export type Services = ReturnType<typeof createServices>;
