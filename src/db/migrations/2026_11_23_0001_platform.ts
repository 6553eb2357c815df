import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration after it has landed; add a new one.
// Every tenant table carries school_id and its primary key and indexes lead with it.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('schools')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('urn', 'text')
    .addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('Europe/London'))
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('is_demo', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('password_changed_at', 'text')
    .addColumn('totp_secret', 'text')
    .addColumn('totp_enabled_at', 'text')
    .addColumn('totp_last_step', 'integer')
    .addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'text')
    .addColumn('last_sign_in_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('users_pk', ['school_id', 'id'])
    .execute();
  // Sign-in is by email across the instance, so an address belongs to one account.
  await db.schema.createIndex('users_email_unique').on('users').column('email').unique().execute();
  await db.schema.createIndex('users_school_person').on('users').columns(['school_id', 'person_id']).execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['school_id', 'user_id', 'role'])
    .addForeignKeyConstraint('user_roles_user_fk', ['school_id', 'user_id'], 'users', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('password_history')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('password_history_pk', ['school_id', 'user_id', 'id'])
    .addForeignKeyConstraint('password_history_user_fk', ['school_id', 'user_id'], 'users', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['school_id', 'user_id', 'code_hash'])
    .addForeignKeyConstraint('recovery_codes_user_fk', ['school_id', 'user_id'], 'users', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addPrimaryKeyConstraint('sessions_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('sessions_user_fk', ['school_id', 'user_id'], 'users', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('sessions_school_user').on('sessions').columns(['school_id', 'user_id']).execute();

  await db.schema
    .createTable('one_time_tokens')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addPrimaryKeyConstraint('one_time_tokens_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('one_time_tokens_user_fk', ['school_id', 'user_id'], 'users', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .addPrimaryKeyConstraint('api_tokens_pk', ['school_id', 'id'])
    .execute();

  // Append-only and hash-chained per school; no code path updates or deletes a row.
  await db.schema
    .createTable('audit_events')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'text')
    .addColumn('actor_label', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_events_pk', ['school_id', 'seq'])
    .execute();
  await db.schema.createIndex('audit_events_school_at').on('audit_events').columns(['school_id', 'at']).execute();
  await db.schema.createIndex('audit_events_school_actor').on('audit_events').columns(['school_id', 'actor_user_id', 'at']).execute();
  await db.schema.createIndex('audit_events_school_target').on('audit_events').columns(['school_id', 'target_type', 'target_id']).execute();
  // The head row serialises appends per school (row lock on PostgreSQL, single writer on SQLite).
  await db.schema
    .createTable('audit_heads')
    .addColumn('school_id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body_text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('outbox_pk', ['school_id', 'id'])
    .execute();

  // People and groups.
  await db.schema
    .createTable('people')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('legal_first_name', 'text', (c) => c.notNull())
    .addColumn('legal_last_name', 'text', (c) => c.notNull())
    .addColumn('preferred_first_name', 'text')
    .addColumn('preferred_last_name', 'text')
    .addColumn('date_of_birth', 'text')
    .addColumn('gender', 'text')
    .addColumn('year_group', 'integer')
    .addColumn('class_name', 'text')
    .addColumn('send', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('eal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('looked_after', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('mis_id', 'text')
    .addColumn('job_title', 'text')
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('organisation', 'text')
    .addColumn('start_date', 'text')
    .addColumn('leave_date', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('people_pk', ['school_id', 'id'])
    .execute();
  await db.schema
    .createIndex('people_school_kind_mis')
    .on('people')
    .columns(['school_id', 'kind', 'mis_id'])
    .unique()
    .where(sql.ref('mis_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('people_school_kind_name').on('people').columns(['school_id', 'kind', 'legal_last_name', 'legal_first_name']).execute();

  await db.schema
    .createTable('groups')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('year_group', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('groups_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('groups_school_kind_code').on('groups').columns(['school_id', 'kind', 'code']).unique().execute();

  await db.schema
    .createTable('group_members')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['school_id', 'group_id', 'person_id'])
    .addForeignKeyConstraint('group_members_group_fk', ['school_id', 'group_id'], 'groups', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('group_members_person_fk', ['school_id', 'person_id'], 'people', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('group_members_school_person').on('group_members').columns(['school_id', 'person_id']).execute();

  await db.schema
    .createTable('guardianships')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text', (c) => c.notNull())
    .addColumn('pupil_id', 'text', (c) => c.notNull())
    .addColumn('relationship', 'text', (c) => c.notNull())
    .addColumn('parental_responsibility', 'integer', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(1))
    .addPrimaryKeyConstraint('guardianships_pk', ['school_id', 'parent_id', 'pupil_id'])
    .addForeignKeyConstraint('guardianships_parent_fk', ['school_id', 'parent_id'], 'people', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('guardianships_pupil_fk', ['school_id', 'pupil_id'], 'people', ['school_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('guardianships_school_pupil').on('guardianships').columns(['school_id', 'pupil_id']).execute();

  // An MIS import waiting for its column mapping, dry run and confirmation.
  await db.schema
    .createTable('people_imports')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('csv', 'text', (c) => c.notNull())
    .addColumn('mapping', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('summary', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('people_imports_pk', ['school_id', 'id'])
    .execute();

  // The roles register ("who to tell"): policy 000 and 004 ask for these names to be on display.
  await db.schema
    .createTable('role_holders')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('post', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('contact', 'text')
    .addColumn('on_poster', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_holders_pk', ['school_id', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'role_holders',
    'people_imports',
    'guardianships',
    'group_members',
    'groups',
    'people',
    'outbox',
    'audit_heads',
    'audit_events',
    'api_tokens',
    'one_time_tokens',
    'sessions',
    'recovery_codes',
    'password_history',
    'user_roles',
    'users',
    'schools',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
