import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { createAgreementService } from './features/agreements/service.js';
import { createConsentService } from './features/consents/service.js';
import { createIncidentService } from './features/incidents/service.js';
import { createPeopleService } from './features/people/service.js';
import { createFileStore } from './platform/files.js';
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
  const consents = createConsentService({ handle, clock, audit, people, schools });
  return { config, handle, clock, audit, schools, mailer, auth, users, apiTokens, people, notifications, files, incidents, agreements, consents };
}

export type Services = ReturnType<typeof createServices>;
