import type { Dialect } from '../../src/db/database.js';
import { createApp, type HavenApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createServices, type Services } from '../../src/services.js';
import { testClock, type TestClock } from './clock.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestHaven {
  app: HavenApp;
  services: Services;
  database: TestDatabase;
  clock: TestClock;
  config: Config;
  close(): Promise<void>;
}

export const testSecret = 'test-secret-test-secret-test-secret-0123456789';

/** A real app over a real database (SQLite or PostgreSQL), with a fixed clock and a lower scrypt cost. */
export async function buildTestHaven(dialect: Dialect, options: { smtpUrl?: string; clock?: TestClock } = {}): Promise<TestHaven> {
  const database = await createTestDatabase(dialect);
  const clock = options.clock ?? testClock();
  const config = loadConfig({
    NODE_ENV: 'test',
    HAVEN_SECRET: testSecret,
    HAVEN_DATA_DIR: database.dataDir,
    PUBLIC_URL: 'http://haven.test',
    ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
  });
  const services = createServices({ config, handle: database.handle, clock, passwordCost: 10 });
  const app = await createApp({ services });
  await app.ready();
  return {
    app,
    services,
    database,
    clock,
    config,
    async close() {
      await app.close();
      services.mailer.close();
      await database.drop();
    },
  };
}
