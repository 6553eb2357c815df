import type { Kysely } from 'kysely';

// Frozen once landed. The video-conference log (policies 001, 002, 004 §7.9): date and time,
// participants, purpose, the headteacher's approval beforehand, external end-points, supervising
// staff, and whether it is recorded — with everyone's written consent when it is.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('video_conferences')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'text', (c) => c.notNull())
    .addColumn('ends_at', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('external_endpoints', 'text', (c) => c.notNull())
    .addColumn('supervisor_id', 'text', (c) => c.notNull())
    .addColumn('other_participants', 'text')
    .addColumn('recorded', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('decision_note', 'text')
    .addColumn('written_consent_confirmed', 'integer', (c) => c.notNull())
    .addColumn('held_note', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('video_conferences_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('video_conferences_supervisor_fk', ['school_id', 'supervisor_id'], 'people', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('video_conferences_school_starts').on('video_conferences').columns(['school_id', 'starts_at']).execute();

  await db.schema
    .createTable('video_conference_pupils')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('conference_id', 'text', (c) => c.notNull())
    .addColumn('pupil_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('video_conference_pupils_pk', ['school_id', 'conference_id', 'pupil_id'])
    .addForeignKeyConstraint('video_conference_pupils_conference_fk', ['school_id', 'conference_id'], 'video_conferences', ['school_id', 'id'])
    .addForeignKeyConstraint('video_conference_pupils_pupil_fk', ['school_id', 'pupil_id'], 'people', ['school_id', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('video_conference_pupils').execute();
  await db.schema.dropTable('video_conferences').execute();
}
