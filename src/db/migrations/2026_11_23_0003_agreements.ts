import type { Kysely } from 'kysely';

// Frozen once landed. Acceptable use agreements: templates per audience, immutable published
// versions, and signatures tied to the exact text signed (policies 000–004).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('agreement_templates')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('renewal_months', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agreement_templates_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('agreement_templates_school_audience').on('agreement_templates').columns(['school_id', 'audience']).unique().execute();

  await db.schema
    .createTable('agreement_versions')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text')
    .addColumn('published_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agreement_versions_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('agreement_versions_template_fk', ['school_id', 'template_id'], 'agreement_templates', ['school_id', 'id'])
    .execute();
  await db.schema
    .createIndex('agreement_versions_school_template_version')
    .on('agreement_versions')
    .columns(['school_id', 'template_id', 'version'])
    .unique()
    .execute();

  await db.schema
    .createTable('agreement_signatures')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('signed_name', 'text', (c) => c.notNull())
    .addColumn('job_title', 'text')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('recorded_by', 'text')
    .addColumn('signed_by_person_id', 'text')
    .addColumn('scan_file_id', 'text')
    .addPrimaryKeyConstraint('agreement_signatures_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('agreement_signatures_version_fk', ['school_id', 'version_id'], 'agreement_versions', ['school_id', 'id'])
    .addForeignKeyConstraint('agreement_signatures_person_fk', ['school_id', 'person_id'], 'people', ['school_id', 'id'])
    .addForeignKeyConstraint('agreement_signatures_scan_fk', ['school_id', 'scan_file_id'], 'stored_files', ['school_id', 'id'])
    .execute();
  await db.schema
    .createIndex('agreement_signatures_school_template_person')
    .on('agreement_signatures')
    .columns(['school_id', 'template_id', 'person_id', 'version'])
    .execute();

  // Single-use, expiring links for parents, who sign without an account; only the hash is stored.
  await db.schema
    .createTable('parent_links')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text', (c) => c.notNull())
    .addColumn('pupil_id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addPrimaryKeyConstraint('parent_links_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('parent_links_parent_fk', ['school_id', 'parent_id'], 'people', ['school_id', 'id'])
    .addForeignKeyConstraint('parent_links_pupil_fk', ['school_id', 'pupil_id'], 'people', ['school_id', 'id'])
    .execute();

  // Visitors and community users: a time-limited guest access record once they have signed (policy 002).
  await db.schema
    .createTable('guest_access')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('sponsor', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('starts_on', 'text', (c) => c.notNull())
    .addColumn('expires_on', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addPrimaryKeyConstraint('guest_access_pk', ['school_id', 'id'])
    .addForeignKeyConstraint('guest_access_person_fk', ['school_id', 'person_id'], 'people', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('guest_access_school_expires').on('guest_access').columns(['school_id', 'expires_on']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['guest_access', 'parent_links', 'agreement_signatures', 'agreement_versions', 'agreement_templates'])
    await db.schema.dropTable(table).execute();
}
