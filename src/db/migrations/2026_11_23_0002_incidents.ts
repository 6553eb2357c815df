import type { Kysely } from 'kysely';

// Frozen once landed. Concerns and incidents (policies 000, 001, 002, 004 §10–11), evidence,
// sanctions, termly reviews; and the platform's in-app notifications and encrypted files.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('link', 'text')
    .addColumn('urgent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('read_at', 'text')
    .addPrimaryKeyConstraint('notifications_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('notifications_user_fk', ['school_id', 'user_id'], 'users', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('notifications_school_user').on('notifications').columns(['school_id', 'user_id', 'created_at']).execute();

  await db.schema
    .createTable('stored_files')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('stored_files_pk', ['school_id', 'id'])
    .execute();

  await db.schema
    .createTable('incident_types')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('procedure', 'text')
    .addColumn('sort', 'integer', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_types_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('incident_types_school_code').on('incident_types').columns(['school_id', 'code']).unique().execute();

  await db.schema
    .createTable('incident_counters')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('last', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_counters_pk', ['school_id', 'year'])
    .execute();

  await db.schema
    .createTable('incidents')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('reported_by', 'text')
    .addColumn('reporter_name', 'text', (c) => c.notNull())
    .addColumn('reporter_role', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('location', 'text')
    .addColumn('device', 'text')
    .addColumn('risk_area', 'text')
    .addColumn('what_happened', 'text', (c) => c.notNull())
    .addColumn('immediate_action', 'text')
    .addColumn('urgent', 'integer', (c) => c.notNull())
    .addColumn('out_of_school', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('severity', 'text')
    .addColumn('illegal', 'text')
    .addColumn('police_advice', 'text')
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('dsl_granted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('entered_illegal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('entered_internal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('misuse_investigation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('second_senior_staff', 'text')
    .addColumn('lessons_learnt', 'text')
    .addColumn('monitoring_note', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incidents_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('incidents_school_reference').on('incidents').columns(['school_id', 'reference']).unique().execute();
  await db.schema.createIndex('incidents_school_occurred').on('incidents').columns(['school_id', 'occurred_at']).execute();
  await db.schema.createIndex('incidents_school_status_occurred').on('incidents').columns(['school_id', 'status', 'occurred_at']).execute();
  // The log's visibility filter (and its count) without reading the whole table.
  await db.schema
    .createIndex('incidents_school_visibility_occurred')
    .on('incidents')
    .columns(['school_id', 'visibility', 'dsl_granted', 'occurred_at'])
    .execute();
  await db.schema.createIndex('incidents_school_reporter').on('incidents').columns(['school_id', 'reported_by', 'created_at']).execute();

  await db.schema
    .createTable('incident_type_links')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('type_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_type_links_pk', ['school_id', 'incident_id', 'type_id'])
    .addForeignKeyConstraint('incident_type_links_incident_fk', ['school_id', 'incident_id'], 'incidents', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('incident_type_links_type_fk', ['school_id', 'type_id'], 'incident_types', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('incident_type_links_school_type').on('incident_type_links').columns(['school_id', 'type_id', 'incident_id']).execute();

  // Each person has their own role on the incident (victim, instigator, witness, affected, other).
  await db.schema
    .createTable('incident_people')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('outside_name', 'text')
    .addColumn('outside_description', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_people_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('incident_people_incident_fk', ['school_id', 'incident_id'], 'incidents', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('incident_people_person_fk', ['school_id', 'person_id'], 'people', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('incident_people_school_incident').on('incident_people').columns(['school_id', 'incident_id']).execute();
  await db.schema.createIndex('incident_people_school_person').on('incident_people').columns(['school_id', 'person_id', 'incident_id']).execute();

  await db.schema
    .createTable('incident_steps')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_by_name', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_steps_pk', ['school_id', 'incident_id', 'step'])
    .addForeignKeyConstraint('incident_steps_incident_fk', ['school_id', 'incident_id'], 'incidents', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  // The incident's own history: every change, in order (also the source of its chronology entries).
  await db.schema
    .createTable('incident_history')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'text')
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addPrimaryKeyConstraint('incident_history_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('incident_history_incident_fk', ['school_id', 'incident_id'], 'incidents', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('incident_history_school_incident').on('incident_history').columns(['school_id', 'incident_id', 'at']).execute();

  await db.schema
    .createTable('incident_evidence')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('file_id', 'text')
    .addColumn('held_where', 'text')
    .addColumn('held_by', 'text')
    .addColumn('added_by', 'text', (c) => c.notNull())
    .addColumn('added_by_name', 'text', (c) => c.notNull())
    .addColumn('added_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_evidence_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('incident_evidence_incident_fk', ['school_id', 'incident_id'], 'incidents', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('incident_evidence_file_fk', ['school_id', 'file_id'], 'stored_files', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('incident_evidence_school_incident').on('incident_evidence').columns(['school_id', 'incident_id']).execute();

  // Follow-up actions (support, debrief changes): an owner and a due date each.
  await db.schema
    .createTable('incident_actions')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('owner_name', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'text')
    .addColumn('due_date', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_actions_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('incident_actions_incident_fk', ['school_id', 'incident_id'], 'incidents', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('incident_actions_school_due').on('incident_actions').columns(['school_id', 'done_at', 'due_date']).execute();
  await db.schema.createIndex('incident_actions_school_incident').on('incident_actions').columns(['school_id', 'incident_id']).execute();

  // Policy 000 "Actions & Sanctions" tables, per school.
  await db.schema
    .createTable('sanction_rules')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('offence', 'text', (c) => c.notNull())
    .addColumn('type_codes', 'text', (c) => c.notNull())
    .addColumn('actions', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addPrimaryKeyConstraint('sanction_rules_pk', ['school_id', 'id'])
    .execute();

  await db.schema
    .createTable('incident_sanctions')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('incident_person_id', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text')
    .addColumn('actions', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('recorded_by_name', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_sanctions_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('incident_sanctions_incident_fk', ['school_id', 'incident_id'], 'incidents', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('incident_sanctions_person_fk', ['school_id', 'incident_person_id'], 'incident_people', ['school_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('incident_sanctions_school_incident').on('incident_sanctions').columns(['school_id', 'incident_id']).execute();

  // Policy 002: the incident log is reviewed termly by the head, an SLT member or the chair of governors.
  await db.schema
    .createTable('incident_log_reviews')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('period_from', 'text', (c) => c.notNull())
    .addColumn('period_to', 'text', (c) => c.notNull())
    .addColumn('reviewer_name', 'text', (c) => c.notNull())
    .addColumn('reviewer_role', 'text', (c) => c.notNull())
    .addColumn('reviewed_on', 'text', (c) => c.notNull())
    .addColumn('comments', 'text')
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_log_reviews_pk', ['school_id', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'incident_log_reviews',
    'incident_sanctions',
    'sanction_rules',
    'incident_actions',
    'incident_evidence',
    'incident_history',
    'incident_steps',
    'incident_people',
    'incident_type_links',
    'incidents',
    'incident_counters',
    'incident_types',
    'stored_files',
    'notifications',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
