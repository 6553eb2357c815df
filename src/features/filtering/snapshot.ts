/**
 * The snapshot file shared by the compiler (server side) and the engine (server, Squid helpers):
 *
 *   "HAVENSN1" | u32 header length | header JSON | padding to 8 | sections (typed arrays, 8-byte aligned)
 *
 * Sections are open-addressing hash tables of 64-bit keys with a Uint32 value (a label-set number
 * + 1; 0 marks an empty slot), each with a bitset prefilter, and the label sets themselves. Loading maps the
 * sections as typed-array views over the file's bytes: no parsing per entry, so a 3-million-domain
 * snapshot loads in milliseconds.
 */

export const magic = 'HAVENSN1';

/** The layout the engine reads (2: tables at load 0.6 with a three-bit blocked filter; see hash.ts). */
export const snapshotFormat = 2;

export type TagKind = 'category' | 'allow' | 'deny' | 'exception';

/** What a list entry says: one of these tags; an entry in several lists carries a set of tags. */
export interface TagDef {
  kind: TagKind;
  /** category: index into categories; allow/deny: the list id; exception: index into exceptions. */
  ref: number | string;
}

export interface SectionRef {
  offset: number;
  length: number;
}

/**
 * A hash table: `slots` holds [key high, key low, value] triples side by side (linear probing from
 * the slot hash.ts's startSlot gives), and `filter` is a blocked bit filter (three bits in one word
 * per key) that turns most misses away before the much larger slot array is touched.
 */
/** Values: (label set + 1) << 1, with bit 0 set on a domain-table host that has URL entries. */
export interface TableRef {
  capacity: number;
  slots: SectionRef;
  filterBits: number;
  filter: SectionRef;
  entries: number;
}

export interface CompiledPolicy {
  group: string;
  name: string;
  blocked: number[];
  allowListOnly: boolean;
  safeSearch: boolean;
  allowTag: number;
  denyTag: number;
  timeWindows: Array<{ days: number[]; from: number; to: number; allowCategories: number[] }>;
}

export interface CompiledException {
  id: string;
  group: string;
  /** The tag of its domain or URL entry, or -1 for a category exception. */
  tag: number;
  category: number;
  startsAt: number;
  endsAt: number;
}

export interface SnapshotHeader {
  format: typeof snapshotFormat;
  version: string;
  compiledAt: string;
  timeZone: string;
  categories: Array<{ code: string; name: string; illegal: boolean }>;
  tags: TagDef[];
  policies: CompiledPolicy[];
  exceptions: CompiledException[];
  networks: Array<{ cidr: string; groups: string[] }>;
  users: Record<string, string[]>;
  defaultGroups: string[];
  blockPageUrl: string;
  /** HMAC key for block-page tokens (derived from the instance secret for this purpose only). */
  blockTokenKey: string;
  domains: TableRef;
  urls: TableRef;
  sets: { offsets: SectionRef; members: SectionRef; count: number };
  counts: { domains: number; urls: number; expressions: number };
  /** The slow path: each tag's regular expressions (as one alternation) with the label set to add on a match. */
  expressions: Array<{ set: number; pattern: string }>;
}
