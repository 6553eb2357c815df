// Row types for Kysely. Timestamps are ISO-8601 UTC text, dates YYYY-MM-DD text, flags 0/1.

export interface SchoolTable {
  id: string;
  name: string;
  urn: string | null;
  time_zone: string;
  settings: string;
  is_demo: number;
  created_at: string;
}

export interface UserTable {
  school_id: string;
  id: string;
  email: string;
  display_name: string;
  person_id: string | null;
  status: string;
  password_hash: string | null;
  password_changed_at: string | null;
  totp_secret: string | null;
  totp_enabled_at: string | null;
  totp_last_step: number | null;
  failed_sign_ins: number;
  locked_until: string | null;
  last_sign_in_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface UserRoleTable {
  school_id: string;
  user_id: string;
  role: string;
}

export interface PasswordHistoryTable {
  school_id: string;
  user_id: string;
  id: string;
  password_hash: string;
  created_at: string;
}

export interface RecoveryCodeTable {
  school_id: string;
  user_id: string;
  code_hash: string;
  used_at: string | null;
}

export interface SessionTable {
  school_id: string;
  id: string;
  user_id: string;
  stage: string;
  created_at: string;
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
}

export interface OneTimeTokenTable {
  school_id: string;
  id: string;
  purpose: string;
  user_id: string;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ApiTokenTable {
  school_id: string;
  id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditEventTable {
  school_id: string;
  seq: number;
  at: string;
  actor_user_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  school_id: string;
  seq: number;
  hash: string;
}

export interface OutboxTable {
  school_id: string;
  id: string;
  to_address: string;
  subject: string;
  body_text: string;
  created_at: string;
  sent_at: string | null;
  error: string | null;
}

export interface PersonTable {
  school_id: string;
  id: string;
  kind: string;
  legal_first_name: string;
  legal_last_name: string;
  preferred_first_name: string | null;
  preferred_last_name: string | null;
  date_of_birth: string | null;
  gender: string | null;
  year_group: number | null;
  class_name: string | null;
  send: number;
  eal: number;
  looked_after: number;
  mis_id: string | null;
  job_title: string | null;
  email: string | null;
  phone: string | null;
  organisation: string | null;
  start_date: string | null;
  leave_date: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  /** Proxy user name (filtering): who is who on the network. */
  network_username?: string | null;
}

export interface GroupTable {
  school_id: string;
  id: string;
  kind: string;
  code: string;
  name: string;
  year_group: number | null;
  created_at: string;
}

export interface GroupMemberTable {
  school_id: string;
  group_id: string;
  person_id: string;
}

export interface GuardianshipTable {
  school_id: string;
  parent_id: string;
  pupil_id: string;
  relationship: string;
  parental_responsibility: number;
  priority: number;
}

export interface RoleHolderTable {
  school_id: string;
  id: string;
  post: string;
  person_id: string | null;
  name: string;
  contact: string | null;
  on_poster: number;
  created_at: string;
}

export interface PeopleImportTable {
  school_id: string;
  id: string;
  kind: string;
  file_name: string;
  csv: string;
  mapping: string;
  status: string;
  summary: string | null;
  created_by: string;
  created_at: string;
}

export interface NotificationTable {
  school_id: string;
  id: string;
  user_id: string;
  title: string;
  link: string | null;
  urgent: number;
  created_at: string;
  read_at: string | null;
}

export interface StoredFileTable {
  school_id: string;
  id: string;
  file_name: string;
  content_type: string;
  size: number;
  sha256: string;
  created_by: string | null;
  created_at: string;
}

export interface IncidentTypeTable {
  school_id: string;
  id: string;
  code: string;
  name: string;
  procedure: string | null;
  sort: number;
  retired_at: string | null;
  created_at: string;
}

export interface IncidentCounterTable {
  school_id: string;
  year: number;
  last: number;
}

export interface IncidentTable {
  school_id: string;
  id: string;
  reference: string;
  reported_by: string | null;
  reporter_name: string;
  reporter_role: string;
  source: string;
  occurred_at: string;
  location: string | null;
  device: string | null;
  risk_area: string | null;
  what_happened: string;
  immediate_action: string | null;
  urgent: number;
  out_of_school: number;
  status: string;
  severity: string | null;
  illegal: string | null;
  police_advice: string | null;
  visibility: string;
  dsl_granted: number;
  entered_illegal: number;
  entered_internal: number;
  misuse_investigation: number;
  second_senior_staff: string | null;
  lessons_learnt: string | null;
  monitoring_note: string | null;
  closed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface IncidentTypeLinkTable {
  school_id: string;
  incident_id: string;
  type_id: string;
}

export interface IncidentPersonTable {
  school_id: string;
  id: string;
  incident_id: string;
  person_id: string | null;
  outside_name: string | null;
  outside_description: string | null;
  role: string;
}

export interface IncidentStepTable {
  school_id: string;
  incident_id: string;
  step: string;
  outcome: string;
  note: string | null;
  recorded_by: string;
  recorded_by_name: string;
  recorded_at: string;
}

export interface IncidentHistoryTable {
  school_id: string;
  id: string;
  incident_id: string;
  at: string;
  actor_user_id: string | null;
  actor_name: string;
  kind: string;
  summary: string;
  reason: string | null;
}

export interface IncidentEvidenceTable {
  school_id: string;
  id: string;
  incident_id: string;
  url: string | null;
  description: string;
  file_id: string | null;
  held_where: string | null;
  held_by: string | null;
  added_by: string;
  added_by_name: string;
  added_at: string;
}

export interface IncidentActionTable {
  school_id: string;
  id: string;
  incident_id: string;
  kind: string;
  description: string;
  owner_name: string;
  owner_user_id: string | null;
  due_date: string;
  done_at: string | null;
  created_at: string;
}

export interface SanctionRuleTable {
  school_id: string;
  id: string;
  audience: string;
  offence: string;
  type_codes: string;
  actions: string;
  sort: number;
  retired_at: string | null;
  terms: string | null;
}

export interface IncidentSanctionTable {
  school_id: string;
  id: string;
  incident_id: string;
  incident_person_id: string;
  rule_id: string | null;
  actions: string;
  note: string | null;
  recorded_by_name: string;
  recorded_at: string;
}

export interface IncidentLogReviewTable {
  school_id: string;
  id: string;
  period_from: string;
  period_to: string;
  reviewer_name: string;
  reviewer_role: string;
  reviewed_on: string;
  comments: string | null;
  recorded_by: string;
  created_at: string;
}

export interface AgreementTemplateTable {
  school_id: string;
  id: string;
  audience: string;
  title: string;
  renewal_months: number | null;
  created_at: string;
}

export interface AgreementVersionTable {
  school_id: string;
  id: string;
  template_id: string;
  version: number;
  body: string;
  content_hash: string;
  status: string;
  published_at: string | null;
  published_by: string | null;
  created_at: string;
}

export interface AgreementSignatureTable {
  school_id: string;
  id: string;
  template_id: string;
  version_id: string;
  version: number;
  content_hash: string;
  person_id: string;
  signed_name: string;
  job_title: string | null;
  method: string;
  signed_at: string;
  ip: string | null;
  recorded_by: string | null;
  signed_by_person_id: string | null;
  scan_file_id: string | null;
}

export interface ParentLinkTable {
  school_id: string;
  id: string;
  parent_id: string;
  pupil_id: string;
  purpose: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ConsentPurposeTable {
  school_id: string;
  id: string;
  code: string;
  name: string;
  sort: number;
  retired_at: string | null;
  terms: string | null;
}

export interface ConsentDecisionTable {
  school_id: string;
  id: string;
  pupil_id: string;
  purpose_id: string;
  parent_id: string;
  seq: number;
  decision: string;
  method: string;
  recorded_at: string;
  recorded_by: string | null;
  note: string | null;
}

export interface GuestAccessTable {
  school_id: string;
  id: string;
  person_id: string;
  sponsor: string;
  purpose: string;
  starts_on: string;
  expires_on: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface JobLeaseTable {
  name: string;
  holder: string | null;
  lease_until: string | null;
  next_run_at: string;
}

export interface JobRunTable {
  id: string;
  name: string;
  holder: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  summary: string | null;
}

export interface AccessProvisioningTable {
  school_id: string;
  person_id: string;
  granted_at: string;
  granted_by: string | null;
  removed_at: string | null;
  removed_by: string | null;
}

export interface AgreementReminderTable {
  school_id: string;
  person_id: string;
  audience: string;
  reminded_at: string;
  count: number;
}

export interface ConsentReviewTable {
  school_id: string;
  id: string;
  pupil_id: string;
  reason: string;
  flagged_at: string;
  flagged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: string | null;
}

export interface GroupStaffTable {
  school_id: string;
  group_id: string;
  person_id: string;
  created_at: string;
}

export interface FilterCategoryTable {
  school_id: string;
  code: string;
  name: string;
  description: string;
  category_group: string;
  sort: number;
}

export interface FilterListTable {
  school_id: string;
  id: string;
  name: string;
  kind: string;
  category: string | null;
  source_type: string;
  source: string | null;
  format: string;
  schedule_hours: number | null;
  current_version: number;
  next_import_at: string | null;
  created_at: string;
  retired_at: string | null;
}

export interface FilterListVersionTable {
  school_id: string;
  list_id: string;
  version: number;
  content_sha256: string;
  domains: number;
  urls: number;
  report: string;
  diff: string;
  created_at: string;
  created_by: string | null;
}

export interface FilterPolicyTable {
  school_id: string;
  group_code: string;
  name: string;
  blocked_categories: string;
  allow_list_only: number;
  safe_search: number;
  allow_list_id: string | null;
  deny_list_id: string | null;
  time_windows: string;
  updated_at: string;
}

export interface FilterNetworkTable {
  school_id: string;
  id: string;
  cidr: string;
  group_code: string;
  label: string;
  created_at: string;
}

export interface FilterRequestTable {
  school_id: string;
  id: string;
  reference: string;
  target_type: string;
  target: string;
  group_code: string;
  reason: string;
  risk_notes: string | null;
  starts_at: string;
  ends_at: string;
  status: string;
  stage: string;
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  ended_at: string | null;
}

export interface FilterChangeLogTable {
  school_id: string;
  seq: number;
  at: string;
  actor: string;
  action: string;
  summary: string;
  reason: string | null;
  details: string;
}

export interface FilterCheckTable {
  school_id: string;
  id: string;
  run_at: string;
  run_by: string;
  group_code: string;
  location: string;
  method: string;
  passed: number;
  failed: number;
  results: string;
  action_taken: string | null;
}

export interface VideoConferenceTable {
  school_id: string;
  id: string;
  reference: string;
  starts_at: string;
  ends_at: string;
  purpose: string;
  external_endpoints: string;
  supervisor_id: string;
  other_participants: string | null;
  recorded: number;
  status: string;
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  written_consent_confirmed: number;
  held_note: string | null;
  updated_at: string;
}

export interface VideoConferencePupilTable {
  school_id: string;
  conference_id: string;
  pupil_id: string;
}

export interface MonitorSourceTable {
  school_id: string;
  id: string;
  kind: string;
  format: string;
  label: string;
  fingerprint: string;
  byte_offset: number;
  lines: number;
  created_at: string;
  updated_at: string;
}

export interface MonitorBatchTable {
  school_id: string;
  source_id: string;
  batch_id: string;
  lines: number;
  received_at: string;
}

export interface MonitorIngestTable {
  school_id: string;
  id: string;
  source_id: string;
  format: string;
  started_at: string;
  finished_at: string;
  lines: number;
  skipped: number;
  bad: number;
  events: number;
  searches: number;
  blocked: number;
  alerts: number;
  bad_samples: string;
}

export interface WebEventTable {
  school_id: string;
  source_id: string;
  line_no: number;
  at: string;
  day: string;
  person_id: string | null;
  client: string;
  group_code: string;
  host: string;
  category: string | null;
  verdict: string;
  search_engine: string | null;
  search_term: string | null;
}

/** A subject's (person's or device's) sites on one day: `sites` is JSON, [host, category, group, allowed, blocked] per site. */
export interface WebActivityTable {
  school_id: string;
  day: string;
  subject: string;
  person_id: string | null;
  sites: string;
  site_count: number;
  allowed: number;
  blocked: number;
}

export interface PhraseListVersionTable {
  school_id: string;
  version: number;
  text: string;
  entries: number;
  note: string;
  created_by: string;
  created_at: string;
}

export interface MonitorAlertTable {
  school_id: string;
  id: string;
  reference: string;
  kind: string;
  theme: string;
  category: string | null;
  severity: number;
  subject: string;
  person_id: string | null;
  about_staff: number;
  group_code: string;
  client: string;
  host: string;
  search_term: string | null;
  matched: string;
  first_at: string;
  last_at: string;
  count: number;
  status: string;
  dismissed_reason: string | null;
  false_positive: number;
  incident_id: string | null;
  notified_at: string | null;
  digested_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface MonitorCounterTable {
  school_id: string;
  year: number;
  last: number;
}

export interface MonitorAlertHistoryTable {
  school_id: string;
  alert_id: string;
  id: string;
  at: string;
  actor: string;
  kind: string;
  note: string;
}

export interface PhraseFeedbackTable {
  school_id: string;
  phrase: string;
  false_positives: number;
  updated_at: string;
}

export interface Database {
  monitor_sources: MonitorSourceTable;
  monitor_batches: MonitorBatchTable;
  monitor_ingests: MonitorIngestTable;
  web_events: WebEventTable;
  web_activity: WebActivityTable;
  phrase_list_versions: PhraseListVersionTable;
  monitor_alerts: MonitorAlertTable;
  monitor_alert_history: MonitorAlertHistoryTable;
  monitor_counters: MonitorCounterTable;
  phrase_feedback: PhraseFeedbackTable;
  video_conferences: VideoConferenceTable;
  video_conference_pupils: VideoConferencePupilTable;
  filter_categories: FilterCategoryTable;
  filter_lists: FilterListTable;
  filter_list_versions: FilterListVersionTable;
  filter_policies: FilterPolicyTable;
  filter_networks: FilterNetworkTable;
  filter_requests: FilterRequestTable;
  filter_change_log: FilterChangeLogTable;
  filter_checks: FilterCheckTable;
  job_leases: JobLeaseTable;
  job_runs: JobRunTable;
  access_provisioning: AccessProvisioningTable;
  agreement_reminders: AgreementReminderTable;
  consent_reviews: ConsentReviewTable;
  group_staff: GroupStaffTable;
  guest_access: GuestAccessTable;
  consent_purposes: ConsentPurposeTable;
  consent_decisions: ConsentDecisionTable;
  agreement_templates: AgreementTemplateTable;
  agreement_versions: AgreementVersionTable;
  agreement_signatures: AgreementSignatureTable;
  parent_links: ParentLinkTable;
  notifications: NotificationTable;
  stored_files: StoredFileTable;
  incident_types: IncidentTypeTable;
  incident_counters: IncidentCounterTable;
  incidents: IncidentTable;
  incident_type_links: IncidentTypeLinkTable;
  incident_people: IncidentPersonTable;
  incident_steps: IncidentStepTable;
  incident_history: IncidentHistoryTable;
  incident_evidence: IncidentEvidenceTable;
  incident_actions: IncidentActionTable;
  sanction_rules: SanctionRuleTable;
  incident_sanctions: IncidentSanctionTable;
  incident_log_reviews: IncidentLogReviewTable;
  people_imports: PeopleImportTable;
  schools: SchoolTable;
  users: UserTable;
  user_roles: UserRoleTable;
  password_history: PasswordHistoryTable;
  recovery_codes: RecoveryCodeTable;
  sessions: SessionTable;
  one_time_tokens: OneTimeTokenTable;
  api_tokens: ApiTokenTable;
  audit_events: AuditEventTable;
  audit_heads: AuditHeadTable;
  outbox: OutboxTable;
  people: PersonTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  guardianships: GuardianshipTable;
  role_holders: RoleHolderTable;
}
