import { sql, type Insertable, type Updateable } from 'kysely';
import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { serialise } from '../../db/locks.js';
import type { MonitorAlertHistoryTable, MonitorAlertTable, MonitorIngestTable, MonitorSourceTable } from '../../db/schema.js';
import type { WebEvent } from './pipeline.js';
import type { TrafficBatch } from './traffic.js';

/** Monitoring's own SQL. The two bulk writes (events and traffic counts) have a path per dialect, both tested. */

export async function findSourceByFingerprint(db: DbOrTrx, schoolId: string, fingerprint: string) {
  return db.selectFrom('monitor_sources').selectAll().where('school_id', '=', schoolId).where('fingerprint', '=', fingerprint).executeTakeFirst();
}

export async function insertSource(db: DbOrTrx, row: Insertable<MonitorSourceTable>): Promise<void> {
  await db
    .insertInto('monitor_sources')
    .values(row)
    .onConflict((oc) => oc.columns(['school_id', 'fingerprint']).doNothing())
    .execute();
}

/** Moves a source on, but only from where this writer found it: two ingests of one file cannot both store the same lines. */
export async function advanceSource(db: DbOrTrx, schoolId: string, id: string, from: number, to: { byteOffset: number; lines: number; at: string }) {
  const result = await db
    .updateTable('monitor_sources')
    .set({ byte_offset: to.byteOffset, lines: to.lines, updated_at: to.at })
    .where('school_id', '=', schoolId)
    .where('id', '=', id)
    .where('lines', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function sources(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('monitor_sources').selectAll().where('school_id', '=', schoolId).orderBy('updated_at', 'desc').limit(200).execute();
}

export async function insertBatch(db: DbOrTrx, row: { school_id: string; source_id: string; batch_id: string; lines: number; received_at: string }) {
  const result = await db
    .insertInto('monitor_batches')
    .values(row)
    .onConflict((oc) => oc.columns(['school_id', 'source_id', 'batch_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function insertIngest(db: DbOrTrx, row: Insertable<MonitorIngestTable>): Promise<void> {
  await db.insertInto('monitor_ingests').values(row).execute();
}

export async function ingests(db: DbOrTrx, schoolId: string, limit = 50) {
  return db.selectFrom('monitor_ingests').selectAll().where('school_id', '=', schoolId).orderBy('started_at', 'desc').limit(limit).execute();
}

const eventColumns = [
  'school_id',
  'source_id',
  'line_no',
  'at',
  'day',
  'person_id',
  'client',
  'group_code',
  'host',
  'category',
  'verdict',
  'search_engine',
  'search_term',
] as const;

function eventRow(schoolId: string, sourceId: string, event: WebEvent): unknown[] {
  return [
    schoolId,
    sourceId,
    event.lineNo,
    new Date(event.at).toISOString(),
    event.day,
    event.personId,
    event.client,
    event.group,
    event.host,
    event.category,
    event.verdict,
    event.searchEngine,
    event.searchTerm,
  ];
}

/** Stores events; a line already stored (same source and line number) is left as it is. */
export async function insertEvents(handle: DatabaseHandle, trx: DbOrTrx, schoolId: string, sourceId: string, events: readonly WebEvent[]): Promise<void> {
  if (events.length === 0) return;
  if (handle.sqlite) {
    // The same connection Kysely's transaction holds: these rows commit or roll back with it.
    const insert = handle.sqlite.prepare(`INSERT OR IGNORE INTO web_events (${eventColumns.join(', ')}) VALUES (${eventColumns.map(() => '?').join(', ')})`);
    for (const event of events) insert.run(eventRow(schoolId, sourceId, event));
    return;
  }
  // PostgreSQL: one statement per 5,000 rows, each column sent as an array.
  for (let from = 0; from < events.length; from += 5000) {
    const rows = events.slice(from, from + 5000).map((event) => eventRow(schoolId, sourceId, event));
    const column = (index: number) => rows.map((row) => row[index]);
    await sql`INSERT INTO web_events (school_id, source_id, line_no, at, day, person_id, client, group_code, host, category, verdict, search_engine, search_term)
      SELECT * FROM unnest(${column(0)}::text[], ${column(1)}::text[], ${column(2)}::bigint[], ${column(3)}::text[], ${column(4)}::text[], ${column(5)}::text[],
        ${column(6)}::text[], ${column(7)}::text[], ${column(8)}::text[], ${column(9)}::text[], ${column(10)}::text[], ${column(11)}::text[], ${column(12)}::text[])
      ON CONFLICT DO NOTHING`.execute(trx);
  }
}

/** One site in a web_activity row: host, category, group, allowed, blocked. */
export type SiteCount = [string, string | null, string, number, number];

/**
 * Adds a batch's traffic counts to each subject's day: the batch's sites merged into the stored row
 * (one row per school, day and subject). The caller's transaction holds a per-school lock, so two
 * ingests cannot merge into the same row side by side.
 */
export async function addTraffic(handle: DatabaseHandle, trx: DbOrTrx, schoolId: string, batch: TrafficBatch): Promise<void> {
  if (batch.size === 0) return;
  await serialise(trx, handle.dialect, `web_activity:${schoolId}`);
  // The batch's entries come grouped by subject-day (its key order).
  const groups: Array<{ day: string; subject: string; personId: string | null; sites: Map<string, SiteCount> }> = [];
  let current = -1;
  for (let k = 0; k < batch.size; k += 1) {
    const entry = batch.order[k]!;
    const id = batch.subjectDay[entry]!;
    if (id !== current) {
      const subjectDay = batch.subjectDays[id]!;
      groups.push({ day: subjectDay.day, subject: subjectDay.subject, personId: subjectDay.personId, sites: new Map() });
      current = id;
    }
    const host = batch.hosts[batch.host[entry]!]!;
    groups
      .at(-1)!
      .sites.set(host, [host, batch.labels[batch.category[entry]!] ?? null, batch.labels[batch.group[entry]!]!, batch.allowed[entry]!, batch.blocked[entry]!]);
  }
  // What is stored already for these subjects and days, merged in.
  const byDay = new Map<string, typeof groups>();
  for (const group of groups) {
    const list = byDay.get(group.day) ?? [];
    list.push(group);
    byDay.set(group.day, list);
  }
  for (const [day, list] of byDay)
    for (let from = 0; from < list.length; from += 500) {
      const part = list.slice(from, from + 500);
      const stored = await trx
        .selectFrom('web_activity')
        .select(['subject', 'sites'])
        .where('school_id', '=', schoolId)
        .where('day', '=', day)
        .where(
          'subject',
          'in',
          part.map((group) => group.subject),
        )
        .execute();
      const bySubject = new Map(part.map((group) => [group.subject, group]));
      for (const row of stored) {
        const group = bySubject.get(row.subject)!;
        for (const site of JSON.parse(row.sites) as SiteCount[]) {
          const added = group.sites.get(site[0]);
          if (added) {
            // The category and group first seen that day stay, as they did per site before.
            added[1] = site[1] ?? added[1];
            added[2] = site[2];
            added[3] += site[3];
            added[4] += site[4];
          } else group.sites.set(site[0], site);
        }
      }
    }
  const rows = groups.map((group) => {
    const sites = [...group.sites.values()];
    let allowed = 0;
    let blocked = 0;
    for (const site of sites) {
      allowed += site[3];
      blocked += site[4];
    }
    return {
      school_id: schoolId,
      day: group.day,
      subject: group.subject,
      person_id: group.personId,
      sites: JSON.stringify(sites),
      site_count: sites.length,
      allowed,
      blocked,
    };
  });
  for (let from = 0; from < rows.length; from += 200)
    await trx
      .insertInto('web_activity')
      .values(rows.slice(from, from + 200))
      .onConflict((oc) =>
        oc.columns(['school_id', 'day', 'subject']).doUpdateSet((eb) => ({
          sites: eb.ref('excluded.sites'),
          site_count: eb.ref('excluded.site_count'),
          allowed: eb.ref('excluded.allowed'),
          blocked: eb.ref('excluded.blocked'),
        })),
      )
      .execute();
}

/** Reserves `count` alert numbers for a year at once; returns the first. */
export async function reserveAlertNumbers(trx: DbOrTrx, postgres: boolean, schoolId: string, year: number, count: number): Promise<number> {
  await trx
    .insertInto('monitor_counters')
    .values({ school_id: schoolId, year, last: 0 })
    .onConflict((oc) => oc.columns(['school_id', 'year']).doNothing())
    .execute();
  let query = trx.selectFrom('monitor_counters').select('last').where('school_id', '=', schoolId).where('year', '=', year);
  if (postgres) query = query.forUpdate();
  const { last } = await query.executeTakeFirstOrThrow();
  await trx
    .updateTable('monitor_counters')
    .set({ last: last + count })
    .where('school_id', '=', schoolId)
    .where('year', '=', year)
    .execute();
  return last + 1;
}

/**
 * Open alerts that started at or after `since`, the newest per subject and theme (keyed
 * "subject|theme"): what a batch's hits may fold into, in one query rather than one per hit.
 */
export async function openAlertsSince(db: DbOrTrx, schoolId: string, since: string) {
  const rows = await db
    .selectFrom('monitor_alerts')
    .selectAll()
    .where('school_id', '=', schoolId)
    // Repeats after a dismissal or escalation are new: they must be seen again.
    .where('status', '=', 'open')
    .where('first_at', '>=', since)
    .orderBy('first_at', 'asc')
    .execute();
  const newest = new Map<string, (typeof rows)[number]>();
  for (const row of rows) newest.set(`${row.subject}|${row.theme}`, row);
  return newest;
}

/** Inserts rows a few hundred to a statement (within both databases' limits on bound values). */
async function insertMany<T extends 'monitor_alerts' | 'monitor_alert_history'>(
  db: DbOrTrx,
  table: T,
  rows: ReadonlyArray<Insertable<T extends 'monitor_alerts' ? MonitorAlertTable : MonitorAlertHistoryTable>>,
): Promise<void> {
  for (let from = 0; from < rows.length; from += 200)
    await db
      .insertInto(table)
      .values(rows.slice(from, from + 200) as never)
      .execute();
}

export async function insertAlerts(db: DbOrTrx, rows: ReadonlyArray<Insertable<MonitorAlertTable>>): Promise<void> {
  await insertMany(db, 'monitor_alerts', rows);
}

export async function insertAlertHistories(db: DbOrTrx, rows: ReadonlyArray<Insertable<MonitorAlertHistoryTable>>): Promise<void> {
  await insertMany(db, 'monitor_alert_history', rows);
}

export async function updateAlert(db: DbOrTrx, schoolId: string, id: string, changes: Updateable<MonitorAlertTable>): Promise<void> {
  await db.updateTable('monitor_alerts').set(changes).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

/** Changes an open alert; false when it was no longer open (someone else dealt with it first). */
export async function moveAlertFromOpen(db: DbOrTrx, schoolId: string, id: string, changes: Updateable<MonitorAlertTable>): Promise<boolean> {
  const result = await db
    .updateTable('monitor_alerts')
    .set(changes)
    .where('school_id', '=', schoolId)
    .where('id', '=', id)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function findAlert(db: DbOrTrx, schoolId: string, id: string) {
  return db.selectFrom('monitor_alerts').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export interface AlertFilter {
  status?: string | undefined;
  minSeverity?: number | undefined;
  theme?: string | undefined;
  personId?: string | undefined;
  /** Whether alerts about staff are included (the headteacher's only). */
  includeStaff: boolean;
  from?: string | undefined;
  to?: string | undefined;
}

export async function listAlerts(db: DbOrTrx, schoolId: string, filter: AlertFilter, limit = 200) {
  let query = db.selectFrom('monitor_alerts').selectAll().where('school_id', '=', schoolId);
  if (!filter.includeStaff) query = query.where('about_staff', '=', 0);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.minSeverity) query = query.where('severity', '>=', filter.minSeverity);
  if (filter.theme) query = query.where('theme', '=', filter.theme);
  if (filter.personId) query = query.where('person_id', '=', filter.personId);
  if (filter.from) query = query.where('last_at', '>=', filter.from);
  if (filter.to) query = query.where('first_at', '<', filter.to);
  return query.orderBy('last_at', 'desc').limit(limit).execute();
}

export async function undigestedAlerts(db: DbOrTrx, schoolId: string) {
  return db
    .selectFrom('monitor_alerts')
    .select(['id', 'about_staff', 'severity'])
    .where('school_id', '=', schoolId)
    .where('notified_at', 'is', null)
    .where('digested_at', 'is', null)
    .execute();
}

export async function markDigested(db: DbOrTrx, schoolId: string, ids: readonly string[], at: string): Promise<void> {
  for (let from = 0; from < ids.length; from += 500)
    await db
      .updateTable('monitor_alerts')
      .set({ digested_at: at })
      .where('school_id', '=', schoolId)
      .where('id', 'in', ids.slice(from, from + 500))
      .execute();
}

export async function insertAlertHistory(db: DbOrTrx, row: Insertable<MonitorAlertHistoryTable>): Promise<void> {
  await db.insertInto('monitor_alert_history').values(row).execute();
}

export async function alertHistory(db: DbOrTrx, schoolId: string, alertId: string) {
  return db.selectFrom('monitor_alert_history').selectAll().where('school_id', '=', schoolId).where('alert_id', '=', alertId).orderBy('at').execute();
}

export async function eventsOfAlert(
  db: DbOrTrx,
  schoolId: string,
  alert: { subject: string; person_id: string | null; client: string; first_at: string; last_at: string },
) {
  let query = db.selectFrom('web_events').selectAll().where('school_id', '=', schoolId).where('at', '>=', alert.first_at).where('at', '<=', alert.last_at);
  query = alert.person_id ? query.where('person_id', '=', alert.person_id) : query.where('person_id', 'is', null).where('client', '=', alert.client);
  return query.orderBy('at').limit(200).execute();
}

export async function addFalsePositives(db: DbOrTrx, schoolId: string, phrases: readonly string[], at: string): Promise<void> {
  for (const phrase of phrases)
    await db
      .insertInto('phrase_feedback')
      .values({ school_id: schoolId, phrase, false_positives: 1, updated_at: at })
      .onConflict((oc) =>
        oc.columns(['school_id', 'phrase']).doUpdateSet((eb) => ({ false_positives: eb('phrase_feedback.false_positives', '+', 1), updated_at: at })),
      )
      .execute();
}

export async function falsePositives(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('phrase_feedback').selectAll().where('school_id', '=', schoolId).orderBy('false_positives', 'desc').execute();
}

export async function phraseVersions(db: DbOrTrx, schoolId: string) {
  return db
    .selectFrom('phrase_list_versions')
    .select(['version', 'entries', 'note', 'created_by', 'created_at'])
    .where('school_id', '=', schoolId)
    .orderBy('version', 'desc')
    .execute();
}

export async function currentPhraseList(db: DbOrTrx, schoolId: string) {
  return db.selectFrom('phrase_list_versions').selectAll().where('school_id', '=', schoolId).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function phraseListVersion(db: DbOrTrx, schoolId: string, version: number) {
  return db.selectFrom('phrase_list_versions').selectAll().where('school_id', '=', schoolId).where('version', '=', version).executeTakeFirst();
}

export async function insertPhraseList(
  db: DbOrTrx,
  row: { school_id: string; version: number; text: string; entries: number; note: string; created_by: string; created_at: string },
): Promise<boolean> {
  const result = await db
    .insertInto('phrase_list_versions')
    .values(row)
    .onConflict((oc) => oc.columns(['school_id', 'version']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Events for reports: blocked attempts and searches in a period, newest first. */
export async function events(
  db: DbOrTrx,
  schoolId: string,
  filter: { from: string; to: string; personId?: string | undefined; blockedOnly?: boolean },
  limit = 500,
) {
  let query = db.selectFrom('web_events').selectAll().where('school_id', '=', schoolId).where('at', '>=', filter.from).where('at', '<', filter.to);
  if (filter.personId) query = query.where('person_id', '=', filter.personId);
  if (filter.blockedOnly) query = query.where('verdict', '=', 'block');
  return query.orderBy('at', 'desc').limit(limit).execute();
}

/** Blocked attempts (each one an event) counted by a column over a period of the school's days ("from" inclusive, "to" exclusive). */
export async function blockedBy(
  db: DbOrTrx,
  schoolId: string,
  column: 'category' | 'host' | 'group_code' | 'person_id' | 'day',
  from: string,
  to: string,
  limit = 50,
) {
  // The school's days decide; the instants a day either side bound the scan on the indexed column.
  const widen = (day: string, days: number) => {
    const at = Date.parse(`${day}T00:00:00.000Z`);
    return Number.isNaN(at) ? `${day}T00:00:00.000Z` : new Date(at + days * 86_400_000).toISOString();
  };
  return db
    .selectFrom('web_events')
    .select([column, (eb) => eb.fn.countAll<number>().as('blocked')])
    .where('school_id', '=', schoolId)
    .where('at', '>=', widen(from, -1))
    .where('at', '<', widen(to, 1))
    .where('day', '>=', from)
    .where('day', '<', to)
    .where('verdict', '=', 'block')
    .groupBy(column)
    .orderBy('blocked', 'desc')
    .limit(limit)
    .execute();
}

/** Alerts counted by a column over a period (by first seen). */
export async function alertsBy(
  db: DbOrTrx,
  schoolId: string,
  column: 'theme' | 'severity' | 'group_code' | 'person_id' | 'status',
  from: string,
  to: string,
  includeStaff: boolean,
) {
  let query = db
    .selectFrom('monitor_alerts')
    .select([column, (eb) => eb.fn.countAll<number>().as('alerts'), (eb) => eb.fn.sum<number>('count').as('hits')])
    .where('school_id', '=', schoolId)
    .where('first_at', '>=', from)
    .where('first_at', '<', to);
  if (!includeStaff) query = query.where('about_staff', '=', 0);
  return query.groupBy(column).orderBy('alerts', 'desc').execute();
}

/** A person's sites per day (newest day first, most visited first), from their daily rows. */
export async function siteVisits(db: DbOrTrx, schoolId: string, personId: string, from: string, to: string) {
  const rows = await db
    .selectFrom('web_activity')
    .select(['day', 'sites'])
    .where('school_id', '=', schoolId)
    .where('person_id', '=', personId)
    .where('day', '>=', from)
    .where('day', '<', to)
    .orderBy('day', 'desc')
    .execute();
  const visits: Array<{ day: string; host: string; category: string | null; allowed: number; blocked: number }> = [];
  for (const row of rows) {
    const sites = (JSON.parse(row.sites) as SiteCount[]).sort((a, b) => b[3] - a[3] || (a[0] < b[0] ? -1 : 1));
    for (const [host, category, , allowed, blocked] of sites) visits.push({ day: row.day, host, category, allowed, blocked });
    if (visits.length >= 1000) break;
  }
  return visits.slice(0, 1000);
}

export async function purgeBefore(db: DbOrTrx, schoolId: string, beforeAt: string, beforeDay: string) {
  const events = await db.deleteFrom('web_events').where('school_id', '=', schoolId).where('at', '<', beforeAt).executeTakeFirst();
  const days = await db.deleteFrom('web_activity').where('school_id', '=', schoolId).where('day', '<', beforeDay).executeTakeFirst();
  // Ingest reports quote bad lines (user names, addresses, hosts): they go with the events.
  await db.deleteFrom('monitor_ingests').where('school_id', '=', schoolId).where('started_at', '<', beforeAt).execute();
  await db.deleteFrom('monitor_batches').where('school_id', '=', schoolId).where('received_at', '<', beforeAt).execute();
  return { events: Number(events.numDeletedRows), days: Number(days.numDeletedRows) };
}

export async function volumes(db: DbOrTrx, schoolId: string) {
  const [events, daily, alerts] = await Promise.all([
    db
      .selectFrom('web_events')
      .select([(eb) => eb.fn.countAll<number>().as('count'), (eb) => eb.fn.min('at').as('oldest'), (eb) => eb.fn.max('at').as('newest')])
      .where('school_id', '=', schoolId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('web_activity')
      .select([(eb) => eb.fn.sum<number>('site_count').as('count'), (eb) => eb.fn.min('day').as('oldest'), (eb) => eb.fn.sum<number>('allowed').as('allowed')])
      .where('school_id', '=', schoolId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('monitor_alerts')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('school_id', '=', schoolId)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    events: Number(events.count),
    oldestEvent: (events.oldest as string | null) ?? null,
    newestEvent: (events.newest as string | null) ?? null,
    dailyRows: Number(daily.count ?? 0),
    oldestDay: (daily.oldest as string | null) ?? null,
    allowedRequests: Number(daily.allowed ?? 0),
    alerts: Number(alerts.count),
  };
}

export async function openAlertCounts(db: DbOrTrx, schoolId: string, includeStaff: boolean) {
  let query = db
    .selectFrom('monitor_alerts')
    .select([(eb) => eb.fn.countAll<number>().as('open'), (eb) => eb.fn.sum<number>(eb.case().when('severity', '>=', 4).then(1).else(0).end()).as('serious')])
    .where('school_id', '=', schoolId)
    .where('status', '=', 'open');
  if (!includeStaff) query = query.where('about_staff', '=', 0);
  const row = await query.executeTakeFirstOrThrow();
  return { open: Number(row.open), serious: Number(row.serious ?? 0) };
}
