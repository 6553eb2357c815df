/**
 * What the filtering engine is compiled from: the school's categories, lists, group policies,
 * exceptions and who-is-who, as plain data. The server builds a FilterModel from the database; the
 * compiler (compile.ts) turns it into a snapshot the engine (engine.ts) loads. No database or HTTP here.
 */

export interface CategoryDef {
  code: string;
  name: string;
  /** Illegal content (IWF list, police-assessed terrorist content): blocked for everyone, never excepted. */
  illegal: boolean;
}

/** A list of entries: a category's list, or a group's local allow or deny list. Entries are normalised. */
export interface ListDef {
  id: string;
  kind: 'category' | 'allow' | 'deny';
  /** For kind 'category': the category code. */
  category?: string;
  /** Domains: each matches itself and every subdomain (label boundaries). */
  domains: readonly string[];
  /** URL prefixes as host/path (no scheme, no leading www.): match on path boundaries. */
  urls: readonly string[];
  /**
   * Regular expressions (UT1 `expressions`): the optional, bounded slow path, tried against
   * host + path only when no domain or URL entry matched. 500 characters each at most.
   */
  expressions?: readonly string[];
}

/** Minutes since midnight in the school's time zone; days 0 = Sunday … 6 = Saturday. */
export interface TimeWindow {
  days: readonly number[];
  from: number;
  to: number;
  /** Categories allowed during the window (for example games at lunchtime). */
  allowCategories: readonly string[];
}

export interface GroupPolicy {
  /** The group code this policy applies to (a Haven group code such as 'staff', 'KS2', 'year:4', 'guests', 'uncleared'). */
  group: string;
  name: string;
  blockedCategories: readonly string[];
  /** Walled garden: anything not on the allow list (or an exception) is blocked. */
  allowListOnly: boolean;
  safeSearch: boolean;
  allowListId?: string | undefined;
  denyListId?: string | undefined;
  timeWindows?: readonly TimeWindow[];
}

/** An approved, time-limited exception for a group: a domain, a URL prefix or a whole category. */
export interface ExceptionDef {
  id: string;
  group: string;
  domain?: string | undefined;
  url?: string | undefined;
  category?: string | undefined;
  /** Epoch milliseconds. */
  startsAt: number;
  endsAt: number;
}

export interface NetworkDef {
  /** IPv4 or IPv6 CIDR, e.g. 10.20.0.0/16. */
  cidr: string;
  groups: readonly string[];
  label?: string;
}

export interface UserDef {
  /** Proxy user name as the proxy sends it (lower-cased when compiled). */
  username: string;
  groups: readonly string[];
}

export interface FilterModel {
  /** Changes whenever anything compiled in changes; carried by every verdict. */
  version: string;
  /** The school's time zone for time windows (IANA name). */
  timeZone: string;
  categories: readonly CategoryDef[];
  lists: readonly ListDef[];
  policies: readonly GroupPolicy[];
  exceptions: readonly ExceptionDef[];
  networks: readonly NetworkDef[];
  users: readonly UserDef[];
  /** Groups used when neither the user nor the address is known (the most restrictive, e.g. 'uncleared'). */
  defaultGroups: readonly string[];
  /** Where blocked requests are sent (url_rewrite / block page); the engine appends a signed token. */
  blockPageUrl: string;
}

export type Action = 'allow' | 'block';

export interface Verdict {
  action: Action;
  /** The category that decided (or null). */
  category: string | null;
  /** Which rule decided, e.g. 'illegal', 'deny-list', 'exception:<id>', 'allow-list', 'category', 'walled-garden', 'default'. */
  rule: string;
  /** The group whose policy decided. */
  group: string;
  snapshot: string;
}
