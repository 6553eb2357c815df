import { createApp, type HavenApp } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createServices, type Services } from './services.js';

export interface RunningHaven {
  app: HavenApp;
  services: Services;
  handle: DatabaseHandle;
  url: string;
  close(): Promise<void>;
}

/** Opens the database, migrates, builds the app and listens. Used by `haven serve` and `haven demo`. */
export async function startServer(
  config: Config,
  options: { logger?: boolean; jobs?: boolean; onReady?: (services: Services) => Promise<void> } = {},
): Promise<RunningHaven> {
  const handle = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onIdleError: (error) => console.error(`PostgreSQL connection lost while idle (${error.message}); reconnecting on next use.`),
  });
  await migrateToLatest(handle.db);
  const services = createServices({
    config,
    handle,
    onJobError: (job, error) => console.error(`Job ${job} failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  // Snapshot files left by an older version are rewritten before helpers may need them again.
  for (const school of await services.schools.list()) await services.filtering.refreshOutdatedSnapshot(school.id);
  if (options.onReady) await options.onReady(services);
  const app = await createApp({ services, logger: options.logger === false ? false : { level: config.logLevel } });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // Reminders, expiries and purges run in the background once the server is up.
  if (options.jobs !== false) services.jobs.start();
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  return {
    app,
    services,
    handle,
    url,
    async close() {
      await services.jobs.stop();
      await app.close();
      services.mailer.close();
      await handle.close();
    },
  };
}
