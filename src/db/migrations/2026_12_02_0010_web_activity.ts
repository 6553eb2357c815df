import type { Kysely } from 'kysely';

// Frozen once landed.
/**
 * Allowed traffic per day and subject (person or device) as one row holding that day's sites — host,
 * category, group, allowed and blocked counts — instead of one row per site: a school's day is a few
 * thousand rows rather than hundreds of thousands, so a day's log is stored in seconds. Blocked
 * attempts stay as events (web_events), which the reports count. The old per-site rows are carried over.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('web_activity')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('sites', 'text', (c) => c.notNull())
    .addColumn('site_count', 'integer', (c) => c.notNull())
    .addColumn('allowed', 'bigint', (c) => c.notNull())
    .addColumn('blocked', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('web_activity_pk', ['school_id', 'day', 'subject'])
    .execute();
  await db.schema.createIndex('web_activity_person').on('web_activity').columns(['school_id', 'person_id', 'day']).execute();

  // Carry the per-site rows over, one school and day at a time.
  const days = (await db.selectFrom('web_activity_daily').select(['school_id', 'day']).distinct().orderBy('school_id').orderBy('day').execute()) as Array<{
    school_id: string;
    day: string;
  }>;
  for (const { school_id: schoolId, day } of days) {
    const rows = (await db
      .selectFrom('web_activity_daily')
      .selectAll()
      .where('school_id', '=', schoolId)
      .where('day', '=', day)
      .orderBy('subject')
      .orderBy('host')
      .execute()) as Array<{
      subject: string;
      host: string;
      person_id: string | null;
      group_code: string;
      category: string | null;
      allowed: number | string;
      blocked: number | string;
    }>;
    const bySubject = new Map<string, typeof rows>();
    for (const row of rows) {
      const list = bySubject.get(row.subject) ?? [];
      list.push(row);
      bySubject.set(row.subject, list);
    }
    const values = [...bySubject].map(([subject, sites]) => ({
      school_id: schoolId,
      day,
      subject,
      person_id: sites[0]!.person_id,
      sites: JSON.stringify(sites.map((site) => [site.host, site.category, site.group_code, Number(site.allowed), Number(site.blocked)])),
      site_count: sites.length,
      allowed: sites.reduce((sum, site) => sum + Number(site.allowed), 0),
      blocked: sites.reduce((sum, site) => sum + Number(site.blocked), 0),
    }));
    for (let from = 0; from < values.length; from += 200)
      await db
        .insertInto('web_activity')
        .values(values.slice(from, from + 200))
        .execute();
  }
  await db.schema.dropTable('web_activity_daily').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('web_activity_daily')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('group_code', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('allowed', 'bigint', (c) => c.notNull())
    .addColumn('blocked', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('web_activity_daily_pk', ['school_id', 'day', 'subject', 'host'])
    .execute();
  await db.schema.createIndex('web_activity_daily_person').on('web_activity_daily').columns(['school_id', 'person_id', 'day']).execute();
  // Each row's sites back to a row per site, a school and day at a time.
  const days = (await db.selectFrom('web_activity').select(['school_id', 'day']).distinct().orderBy('school_id').orderBy('day').execute()) as Array<{
    school_id: string;
    day: string;
  }>;
  for (const { school_id: schoolId, day } of days) {
    const rows = (await db.selectFrom('web_activity').selectAll().where('school_id', '=', schoolId).where('day', '=', day).execute()) as Array<{
      subject: string;
      person_id: string | null;
      sites: string;
    }>;
    const values = rows.flatMap((row) =>
      (JSON.parse(row.sites) as Array<[string, string | null, string, number, number]>).map(([host, category, group, allowed, blocked]) => ({
        school_id: schoolId,
        day,
        subject: row.subject,
        host,
        person_id: row.person_id,
        group_code: group,
        category,
        allowed,
        blocked,
      })),
    );
    for (let from = 0; from < values.length; from += 200)
      await db
        .insertInto('web_activity_daily')
        .values(values.slice(from, from + 200))
        .execute();
  }
  await db.schema.dropTable('web_activity').execute();
}
