import type { Kysely } from 'kysely';

// Frozen once landed. Monitoring (policies 000, 001, 002, 003, 004 §7.3.4): where web-activity logs come
// from and how far each has been read, ingest reports, blocked attempts and searches as events (host,
// category, verdict and the search term — never the full query string), allowed traffic as daily
// counts, the phrase lists by version, alerts with their history, and false-positive counts per phrase.

export async function up(db: Kysely<any>): Promise<void> {
  // A log source: a file (known by a fingerprint of its first bytes, so a rotated file is the same
  // source) or an integration posting batches. The offset and line count move in the same transaction
  // as the events they cover, so a crash or a second run never duplicates or skips lines.
  await db.schema
    .createTable('monitor_sources')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('byte_offset', 'bigint', (c) => c.notNull())
    .addColumn('lines', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_sources_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('monitor_sources_fingerprint').on('monitor_sources').columns(['school_id', 'fingerprint']).unique().execute();

  await db.schema
    .createTable('monitor_batches')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('lines', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_batches_pk', ['school_id', 'source_id', 'batch_id'])
    .addForeignKeyConstraint('monitor_batches_source_fk', ['school_id', 'source_id'], 'monitor_sources', ['school_id', 'id'])
    .execute();

  await db.schema
    .createTable('monitor_ingests')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text', (c) => c.notNull())
    .addColumn('lines', 'bigint', (c) => c.notNull())
    .addColumn('skipped', 'bigint', (c) => c.notNull())
    .addColumn('bad', 'bigint', (c) => c.notNull())
    .addColumn('events', 'bigint', (c) => c.notNull())
    .addColumn('searches', 'bigint', (c) => c.notNull())
    .addColumn('blocked', 'bigint', (c) => c.notNull())
    .addColumn('alerts', 'integer', (c) => c.notNull())
    .addColumn('bad_samples', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_ingests_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('monitor_ingests_school_started').on('monitor_ingests').columns(['school_id', 'started_at']).execute();

  // One row per blocked attempt or search. The key is the line's place in its source, so the same line
  // can never be stored twice.
  await db.schema
    .createTable('web_events')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('line_no', 'bigint', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('client', 'text', (c) => c.notNull())
    .addColumn('group_code', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('verdict', 'text', (c) => c.notNull())
    .addColumn('search_engine', 'text')
    .addColumn('search_term', 'text')
    .addPrimaryKeyConstraint('web_events_pk', ['school_id', 'source_id', 'line_no'])
    .execute();
  await db.schema.createIndex('web_events_school_at').on('web_events').columns(['school_id', 'at']).execute();
  await db.schema.createIndex('web_events_school_person_at').on('web_events').columns(['school_id', 'person_id', 'at']).execute();

  // Allowed (and blocked) traffic as counts per day, person or device, and host: enough to answer
  // "which sites did this pupil visit" without keeping every request.
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

  await db.schema
    .createTable('phrase_list_versions')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('entries', 'integer', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('phrase_list_versions_pk', ['school_id', 'version'])
    .execute();

  await db.schema
    .createTable('monitor_alerts')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('theme', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('severity', 'integer', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('about_staff', 'integer', (c) => c.notNull())
    .addColumn('group_code', 'text', (c) => c.notNull())
    .addColumn('client', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('search_term', 'text')
    .addColumn('matched', 'text', (c) => c.notNull())
    .addColumn('first_at', 'text', (c) => c.notNull())
    .addColumn('last_at', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('dismissed_reason', 'text')
    .addColumn('false_positive', 'integer', (c) => c.notNull())
    .addColumn('incident_id', 'text')
    .addColumn('notified_at', 'text')
    .addColumn('digested_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_alerts_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('monitor_alerts_school_status').on('monitor_alerts').columns(['school_id', 'status', 'last_at']).execute();
  await db.schema.createIndex('monitor_alerts_school_subject').on('monitor_alerts').columns(['school_id', 'subject', 'theme', 'first_at']).execute();
  await db.schema.createIndex('monitor_alerts_school_person').on('monitor_alerts').columns(['school_id', 'person_id']).execute();
  await db.schema.createIndex('monitor_alerts_school_reference').on('monitor_alerts').columns(['school_id', 'reference']).unique().execute();

  await db.schema
    .createTable('monitor_counters')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('last', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_counters_pk', ['school_id', 'year'])
    .execute();

  await db.schema
    .createTable('monitor_alert_history')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('alert_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_alert_history_pk', ['school_id', 'alert_id', 'id'])
    .addForeignKeyConstraint('monitor_alert_history_alert_fk', ['school_id', 'alert_id'], 'monitor_alerts', ['school_id', 'id'])
    .execute();

  await db.schema
    .createTable('phrase_feedback')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('phrase', 'text', (c) => c.notNull())
    .addColumn('false_positives', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('phrase_feedback_pk', ['school_id', 'phrase'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'phrase_feedback',
    'monitor_alert_history',
    'monitor_counters',
    'monitor_alerts',
    'phrase_list_versions',
    'web_activity_daily',
    'web_events',
    'monitor_ingests',
    'monitor_batches',
    'monitor_sources',
  ])
    await db.schema.dropTable(table).execute();
}
