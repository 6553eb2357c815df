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

export interface Database {
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
