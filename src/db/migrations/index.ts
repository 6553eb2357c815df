import type { Migration, MigrationProvider } from 'kysely';
import * as platform from './2026_11_23_0001_platform.js';
import * as incidents from './2026_11_23_0002_incidents.js';
import * as agreements from './2026_11_23_0003_agreements.js';
import * as consents from './2026_11_23_0004_consents.js';
import * as accessAndJobs from './2026_11_23_0005_access_and_jobs.js';
import * as filtering from './2026_11_23_0007_filtering.js';
import * as videoConferences from './2026_11_23_0008_video_conferences.js';
import * as monitoring from './2026_12_02_0009_monitoring.js';
import * as webActivity from './2026_12_02_0010_web_activity.js';

/** Every migration, by timestamped name. Add new ones at the end; never edit one that has landed. */
const migrations: Record<string, Migration> = {
  '2026_11_23_0001_platform': platform,
  '2026_11_23_0002_incidents': incidents,
  '2026_11_23_0003_agreements': agreements,
  '2026_11_23_0004_consents': consents,
  '2026_11_23_0005_access_and_jobs': accessAndJobs,
  '2026_11_23_0007_filtering': filtering,
  '2026_11_23_0008_video_conferences': videoConferences,
  '2026_12_02_0009_monitoring': monitoring,
  '2026_12_02_0010_web_activity': webActivity,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
