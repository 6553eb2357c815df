import type { Kysely } from 'kysely';

// Frozen once landed. Parental consents by purpose (policies 001, 002, 003 §7), withdrawable at any time.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('consent_purposes')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addPrimaryKeyConstraint('consent_purposes_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('consent_purposes_school_code').on('consent_purposes').columns(['school_id', 'code']).unique().execute();

  // Every decision is kept; the latest (highest seq) per pupil, purpose and parent is the one in force.
  await db.schema
    .createTable('consent_decisions')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('pupil_id', 'text', (c) => c.notNull())
    .addColumn('purpose_id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text')
    .addColumn('note', 'text')
    .addPrimaryKeyConstraint('consent_decisions_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('consent_decisions_pupil_fk', ['school_id', 'pupil_id'], 'people', ['school_id', 'id'])
    .addForeignKeyConstraint('consent_decisions_parent_fk', ['school_id', 'parent_id'], 'people', ['school_id', 'id'])
    .addForeignKeyConstraint('consent_decisions_purpose_fk', ['school_id', 'purpose_id'], 'consent_purposes', ['school_id', 'id'])
    .execute();
  await db.schema
    .createIndex('consent_decisions_school_pupil')
    .on('consent_decisions')
    .columns(['school_id', 'pupil_id', 'purpose_id', 'recorded_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['consent_decisions', 'consent_purposes']) await db.schema.dropTable(table).execute();
}
