import type { Kysely } from 'kysely';

// Frozen once landed. Web filtering (policies 000, 001, 003 §12, 004 §7.3): categories, lists and
// their versions (entries live in content-addressed files under the data directory), group policies,
// address ranges, change requests and exceptions, the append-only change log, and filtering checks.

export async function up(db: Kysely<any>): Promise<void> {
  // The network user name a proxy sends for a person (proxy authentication), to know who is who.
  await db.schema.alterTable('people').addColumn('network_username', 'text').execute();
  await db.schema.createIndex('people_school_network_username').on('people').columns(['school_id', 'network_username']).execute();

  await db.schema
    .createTable('filter_categories')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('category_group', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('filter_categories_pk', ['school_id', 'code'])
    .execute();

  await db.schema
    .createTable('filter_lists')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('source_type', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('schedule_hours', 'integer')
    .addColumn('current_version', 'integer', (c) => c.notNull())
    .addColumn('next_import_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addPrimaryKeyConstraint('filter_lists_pk', ['school_id', 'id'])
    .execute();

  await db.schema
    .createTable('filter_list_versions')
    .addColumn('school_id', 'text', (c) => c.notNull())
    .addColumn('list_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('content_sha256', 'text', (c) => c.notNull())
    .addColumn('domains', 'integer', (c) => c.notNull())
    .addColumn('urls', 'integer', (c) => c.notNull())
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('diff', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addPrimaryKeyConstraint('filter_list_versions_pk', ['school_id', 'list_id', 'version'])
    .addForeignKeyConstraint('filter_list_versions_list_fk', ['school_id', 'list_id'], 'filter_lists', ['school_id', 'id'])
    .execute();

  await db.schema
    .createTable('filter_policies')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('group_code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('blocked_categories', 'text', (c) => c.notNull())
    .addColumn('allow_list_only', 'integer', (c) => c.notNull())
    .addColumn('safe_search', 'integer', (c) => c.notNull())
    .addColumn('allow_list_id', 'text')
    .addColumn('deny_list_id', 'text')
    .addColumn('time_windows', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('filter_policies_pk', ['school_id', 'group_code'])
    .execute();

  await db.schema
    .createTable('filter_networks')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('cidr', 'text', (c) => c.notNull())
    .addColumn('group_code', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('filter_networks_pk', ['school_id', 'id'])
    .execute();

  // Change requests; an approved one is an exception, active from starts_at to ends_at.
  await db.schema
    .createTable('filter_requests')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('group_code', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('risk_notes', 'text')
    .addColumn('starts_at', 'text', (c) => c.notNull())
    .addColumn('ends_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('decision_reason', 'text')
    .addColumn('ended_at', 'text')
    .addPrimaryKeyConstraint('filter_requests_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('filter_requests_school_status').on('filter_requests').columns(['school_id', 'status', 'ends_at']).execute();

  // Append-only: every request, decision, import, policy edit and expiry, for the governors.
  await db.schema
    .createTable('filter_change_log')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('filter_change_log_pk', ['school_id', 'seq'])
    .execute();

  // DfE standard: when, who, what was tested, on which group/device/location, the result, the action.
  await db.schema
    .createTable('filter_checks')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('run_at', 'text', (c) => c.notNull())
    .addColumn('run_by', 'text', (c) => c.notNull())
    .addColumn('group_code', 'text', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('passed', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('results', 'text', (c) => c.notNull())
    .addColumn('action_taken', 'text')
    .addPrimaryKeyConstraint('filter_checks_pk', ['school_id', 'id'])
    .execute();
  await db.schema.createIndex('filter_checks_school_run').on('filter_checks').columns(['school_id', 'run_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'filter_checks',
    'filter_change_log',
    'filter_requests',
    'filter_networks',
    'filter_policies',
    'filter_list_versions',
    'filter_lists',
    'filter_categories',
  ])
    await db.schema.dropTable(table).execute();
  await db.schema.dropIndex('people_school_network_username').execute();
  await db.schema.alterTable('people').dropColumn('network_username').execute();
}
