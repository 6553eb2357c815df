import type { Kysely } from 'kysely';

// Frozen once landed. The jobs scheduler's runs and leases (DESIGN.md "Jobs"); the access register's
// account provisioning, reminders and annual renewals; consent reviews after a change of
// circumstances; the staff who teach each class; consent purposes with terms (remote learning).

export async function up(db: Kysely<any>): Promise<void> {
  // One row per job: whoever holds an unexpired lease runs it, so two processes never run the same job.
  await db.schema
    .createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('next_run_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('job_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('summary', 'text')
    .execute();
  await db.schema.createIndex('job_runs_name_started').on('job_runs').columns(['name', 'started_at']).execute();

  // The technician's record that a network account exists for a person, and when it was removed.
  await db.schema
    .createTable('access_provisioning')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('granted_at', 'text', (c) => c.notNull())
    .addColumn('granted_by', 'text')
    .addColumn('removed_at', 'text')
    .addColumn('removed_by', 'text')
    .addPrimaryKeyConstraint('access_provisioning_pk', ['school_id', 'person_id'])
    .addForeignKeyConstraint('access_provisioning_person_fk', ['school_id', 'person_id'], 'people', ['school_id', 'id'])
    .execute();

  // When each outstanding person was last reminded to sign, so reminders are not sent every day.
  await db.schema
    .createTable('agreement_reminders')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('reminded_at', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('agreement_reminders_pk', ['school_id', 'person_id', 'audience'])
    .addForeignKeyConstraint('agreement_reminders_person_fk', ['school_id', 'person_id'], 'people', ['school_id', 'id'])
    .execute();

  // "Circumstances changed" (e.g. custody): the pupil's consents are reviewed before images are used.
  await db.schema
    .createTable('consent_reviews')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('pupil_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('flagged_at', 'text', (c) => c.notNull())
    .addColumn('flagged_by', 'text')
    .addColumn('resolved_at', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('resolution', 'text')
    .addPrimaryKeyConstraint('consent_reviews_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('consent_reviews_pupil_fk', ['school_id', 'pupil_id'], 'people', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('consent_reviews_school_pupil').on('consent_reviews').columns(['school_id', 'pupil_id']).execute();

  // The staff who teach a class (class teacher, teaching assistant): teachers see their classes' records.
  await db.schema
    .createTable('group_staff')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_staff_pk', ['school_id', 'group_id', 'person_id'])
    .addForeignKeyConstraint('group_staff_group_fk', ['school_id', 'group_id'], 'groups', ['school_id', 'id'])
    .addForeignKeyConstraint('group_staff_person_fk', ['school_id', 'person_id'], 'people', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('group_staff_school_person').on('group_staff').columns(['school_id', 'person_id']).execute();

  // Terms shown to parents with a consent purpose (remote learning, policy 000 appendix 5).
  await db.schema.alterTable('consent_purposes').addColumn('terms', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('consent_purposes').dropColumn('terms').execute();
  for (const table of ['group_staff', 'consent_reviews', 'agreement_reminders', 'access_provisioning', 'job_runs', 'job_leases'])
    await db.schema.dropTable(table).execute();
}
