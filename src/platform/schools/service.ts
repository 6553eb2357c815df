import { z } from 'zod';
import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import { notFound } from '../errors.js';

/** Per-school settings with their defaults; stored as JSON on the school row. */
export const schoolSettingsSchema = z.object({
  passwordMinLength: z.number().int().min(8).max(128).default(12),
  passwordDenyCommon: z.boolean().default(true),
  /** How many previous passwords may not be reused. */
  passwordHistory: z.number().int().min(0).max(24).default(5),
  /**
   * Forced expiry in days (0 = off). The policies ask for 30-day changes; current NCSC guidance
   * advises against forced expiry because it leads to weaker passwords, so it is off by default.
   */
  passwordExpiryDays: z.number().int().min(0).max(365).default(0),
  /** Idle timeout: the policies' screen-lock rule. */
  sessionIdleMinutes: z.number().int().min(5).max(240).default(15),
  sessionAbsoluteHours: z.number().int().min(1).max(24).default(12),
  /** Policy 001: image consent from every parent with parental responsibility, not just one. */
  consentNeedsEveryParent: z.boolean().default(false),
  /**
   * Who approves filtering changes (policies 000, 003 §12): the headteacher; or the technician first
   * and then the headteacher for changes touching the content categories (the riskier ones).
   */
  filterApproval: z.enum(['headteacher', 'technician_then_headteacher']).default('headteacher'),
  /** Policy 003: 90 days of searchable web activity; then raw events are purged (DESIGN.md data minimisation). */
  monitorRetentionDays: z.number().int().min(7).max(730).default(90),
  /** Repeats of the same theme for the same person within this many minutes fold into one alert. */
  monitorSuppressionMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(10),
  /** The phrase score a search must reach to alert, by default and per filtering group (younger pupils lower). */
  monitorThreshold: z.number().int().min(1).max(100).default(10),
  monitorGroupThresholds: z.record(z.string(), z.number().int().min(1).max(100)).default({}),
  /** Blocked attempts in these categories raise an alert of the given severity (1–5). */
  monitorWatchedCategories: z
    .record(z.string(), z.number().int().min(1).max(5))
    .default({ csam: 5, terrorism: 5, extremism: 4, self_harm: 4, pornography: 3, violence: 3, discrimination: 3, drugs: 2, filter_bypass: 2 }),
});

export type SchoolSettings = z.infer<typeof schoolSettingsSchema>;

export interface School {
  id: string;
  name: string;
  urn: string | null;
  timeZone: string;
  isDemo: boolean;
  settings: SchoolSettings;
}

export function parseSettings(json: string): SchoolSettings {
  const raw: unknown = JSON.parse(json);
  return schoolSettingsSchema.parse(raw ?? {});
}

export function createSchoolService(handle: DatabaseHandle, clock: () => Date) {
  const { db } = handle;

  function toSchool(row: { id: string; name: string; urn: string | null; time_zone: string; is_demo: number; settings: string }): School {
    return { id: row.id, name: row.name, urn: row.urn, timeZone: row.time_zone, isDemo: row.is_demo === 1, settings: parseSettings(row.settings) };
  }

  return {
    async count(trx: DbOrTrx = db): Promise<number> {
      const row = await trx
        .selectFrom('schools')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async find(id: string, trx: DbOrTrx = db): Promise<School | undefined> {
      const row = await trx.selectFrom('schools').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toSchool(row) : undefined;
    },
    async get(id: string, trx: DbOrTrx = db): Promise<School> {
      const school = await this.find(id, trx);
      if (!school) throw notFound('school');
      return school;
    },
    async list(): Promise<School[]> {
      const rows = await db.selectFrom('schools').selectAll().orderBy('name').execute();
      return rows.map(toSchool);
    },
    async create(trx: DbOrTrx, input: { name: string; urn?: string | null | undefined; timeZone?: string; isDemo?: boolean }): Promise<School> {
      const row = {
        id: newId(),
        name: input.name,
        urn: input.urn ?? null,
        time_zone: input.timeZone ?? 'Europe/London',
        settings: JSON.stringify(schoolSettingsSchema.parse({})),
        is_demo: input.isDemo ? 1 : 0,
        created_at: isoNow(clock),
      };
      await trx.insertInto('schools').values(row).execute();
      return toSchool(row);
    },
    async updateSettings(trx: DbOrTrx, id: string, settings: SchoolSettings): Promise<void> {
      await trx
        .updateTable('schools')
        .set({ settings: JSON.stringify(schoolSettingsSchema.parse(settings)) })
        .where('id', '=', id)
        .execute();
    },
  };
}

export type SchoolService = ReturnType<typeof createSchoolService>;
