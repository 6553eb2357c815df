import type { FilterEngine, Snapshot } from '../filtering/engine.js';
import { fieldText, LogLine, parseLine, userText, type LogFormat } from './parse.js';
import { scoreText, type PhraseMatcher } from './phrases.js';
import { extractSearch, isPlainAscii, mayBeSearch, normaliseText } from './search-terms.js';
import { TrafficTable, type SubjectDay, type TrafficBatch } from './traffic.js';

/**
 * The monitoring pipeline without storage (DESIGN.md "Monitoring pipeline"): log line → parse → who
 * (proxy user name → person; client address → the filtering groups) → classify against the filter
 * snapshot (category, verdict) → search term → phrase scores. What it keeps is what may be stored
 * (data minimisation, DESIGN.md): blocked attempts and searches as events with the host, category,
 * verdict and search term — never the query string — and every other request as a count per day,
 * person or device, and host.
 */

export interface KnownUser {
  personId: string;
  /** Alerts about staff go to the headteacher only. */
  staff: boolean;
}

export interface PipelineOptions {
  format: LogFormat;
  engine: FilterEngine;
  matcher: PhraseMatcher;
  /** The school's time zone: events are filed under the school's day. */
  timeZone: string;
  /** Proxy user names (lower case) → people. */
  users: ReadonlyMap<string, KnownUser>;
  /** The score a theme must reach to alert, per filtering group (DSL setting), and the default. */
  thresholds: Readonly<Record<string, number>>;
  defaultThreshold: number;
  /** Categories whose blocked attempts raise an alert, with the alert's severity. */
  watchedCategories: Readonly<Record<string, number>>;
  /** Whether to count allowed traffic per day, subject and host (off for the parse-and-match benchmark). */
  countTraffic?: boolean;
}

export interface WebEvent {
  lineNo: number;
  at: number;
  day: string;
  personId: string | null;
  staff: boolean;
  client: string;
  group: string;
  host: string;
  category: string | null;
  verdict: 'block' | 'allow';
  searchEngine: string | null;
  searchTerm: string | null;
}

/** Something worth an alert: a search whose phrases scored over the threshold, or a blocked attempt in a watched category. */
export interface Hit {
  kind: 'phrase' | 'blocked';
  /** The phrase theme, or the category for a blocked attempt. */
  theme: string;
  severity: number;
  matched: string[];
  event: WebEvent;
}

export interface BadLine {
  line: number;
  reason: string;
  /** The start of the line, cut before any query string (which may hold a search). */
  text: string;
}

const maxBadSamples = 20;

/** Hits at this severity or above notify the DSL at once (DESIGN.md). */
export const urgentSeverity = 4;

/** What a batch of lines gave, for one transaction's worth of storage. */
export interface Drained {
  events: WebEvent[];
  hits: Hit[];
  traffic: TrafficBatch;
}

/** A pipeline's running totals (the ingest report's figures). */
export interface PipelineCounts {
  lines: number;
  bad: number;
  events: number;
  searches: number;
  blocked: number;
  badSamples: BadLine[];
}

/** "YYYY-MM-DD" in a time zone, remembered per quarter hour (every zone's offsets change on a quarter hour). */
export class SchoolDays {
  private readonly format: Intl.DateTimeFormat;
  private bucket = -1;
  private day = '';

  constructor(timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  of(ms: number): string {
    const bucket = Math.floor(ms / 900_000);
    if (bucket !== this.bucket) {
      this.bucket = bucket;
      this.day = this.format.format(new Date(ms));
    }
    return this.day;
  }
}

function ipv4Number(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i += 1) {
    const code = bytes[i]!;
    if (code === 46) {
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (code >= 48 && code <= 57) {
      part = part * 10 + code - 48;
      digits += 1;
      if (digits > 3) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return (value * 256 + part) | 0;
}

/** Where hostBounds found the host: [start, end) (module scratch: the pipeline is synchronous). */
const hostAt = new Int32Array(2);

/** Where the host of a logged URL starts and ends (after "scheme://", before "/", ":", "?" or "#"), into hostAt. */
function hostBounds(bytes: Uint8Array, start: number, end: number): void {
  let hostStart = start;
  // "http://" and "https://" first; then any other scheme's "://" near the start; else none (CONNECT "host:port").
  if (end - start > 7 && bytes[start + 4] === 58 && bytes[start + 5] === 47 && bytes[start + 6] === 47) hostStart = start + 7;
  else if (end - start > 8 && bytes[start + 5] === 58 && bytes[start + 6] === 47 && bytes[start + 7] === 47) hostStart = start + 8;
  else
    for (let i = start; i + 2 < end && i < start + 12; i += 1) {
      if (bytes[i] === 58 && bytes[i + 1] === 47 && bytes[i + 2] === 47) {
        hostStart = i + 3;
        break;
      }
    }
  let hostEnd = hostStart;
  // Userinfo before the host ("user@host") is not the host: the host starts after the last "@".
  let at = -1;
  while (hostEnd < end) {
    const code = bytes[hostEnd]!;
    if (code === 47 || code === 58 || code === 63 || code === 35) break;
    if (code === 64) at = hostEnd;
    hostEnd += 1;
  }
  hostAt[0] = at === -1 ? hostStart : at + 1;
  hostAt[1] = hostEnd;
}

/** The host in lower case, or null when it holds a control character (no real host does; PostgreSQL refuses NUL in text). */
function lowerHost(bytes: Uint8Array, start: number, end: number): string | null {
  let lower = false;
  for (let i = start; i < end; i += 1) {
    const code = bytes[i]!;
    if (code < 32) return null;
    if ((code >= 65 && code <= 90) || code >= 128) lower = true;
  }
  const text = fieldText(bytes, start, end);
  return lower ? text.toLowerCase() : text;
}

/** Text from a log that will be stored: without NUL characters, which PostgreSQL cannot keep. */
function storable(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '') : text;
}

/**
 * The hosts of one batch, numbered: a host seen before is found from its bytes (hashed in lower case,
 * then compared), without making a string. Hosts with non-ASCII bytes go through their text.
 */
class HostTable {
  readonly texts: string[] = [];
  private hashes = new Int32Array(1 << 12);
  /** id + 1 per slot; 0 is empty. */
  private slots = new Int32Array(1 << 12);
  private readonly byText = new Map<string, number>();

  /** The host's id, or -1 when it holds a control character (no real host does). */
  id(bytes: Uint8Array, start: number, end: number): number {
    let hash = 0x811c9dc5;
    let ascii = true;
    for (let i = start; i < end; i += 1) {
      let code = bytes[i]!;
      if (code < 32) return -1;
      if (code >= 128) ascii = false;
      else if (code >= 65 && code <= 90) code |= 32;
      hash = Math.imul(hash ^ code, 0x01000193);
    }
    if (!ascii) {
      const text = lowerHost(bytes, start, end);
      if (text === null) return -1;
      // A host that lower-cases to ASCII ("\u212Aids.example" → "kids.example") is that ASCII host (rare: a copy is fine).
      if (isPlainAscii(text)) return this.id(Buffer.from(text, 'latin1'), 0, text.length);
      let id = this.byText.get(text);
      if (id === undefined) {
        id = this.add(text);
        this.byText.set(text, id);
      }
      return id;
    }
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const found = this.slots[slot]!;
      if (found === 0) break;
      if (this.hashes[slot] === hash && sameLowerAscii(this.texts[found - 1]!, bytes, start, end)) return found - 1;
      slot = (slot + 1) & mask;
    }
    const id = this.add(lowerHost(bytes, start, end)!);
    this.slots[slot] = id + 1;
    this.hashes[slot] = hash;
    if (this.texts.length * 2 > this.slots.length) this.grow();
    return id;
  }

  clear(): void {
    this.texts.length = 0;
    this.slots.fill(0);
    this.byText.clear();
  }

  private add(text: string): number {
    this.texts.push(text);
    return this.texts.length - 1;
  }

  private grow(): void {
    const hashes = this.hashes;
    const slots = this.slots;
    this.hashes = new Int32Array(hashes.length * 2);
    this.slots = new Int32Array(slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < slots.length; i += 1) {
      if (slots[i] === 0) continue;
      let slot = hashes[i]! & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = slots[i]!;
      this.hashes[slot] = hashes[i]!;
    }
  }
}

/** Whether ASCII bytes, lower-cased, spell `text`. */
function sameLowerAscii(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = start; i < end; i += 1) {
    let code = bytes[i]!;
    if (code >= 65 && code <= 90) code |= 32;
    if (text.charCodeAt(i - start) !== code) return false;
  }
  return true;
}

/** A proxy user name as logged, and what it stands for. */
interface UserEntry {
  /** The name as the filter and the people know it (userText: decoded, trimmed, lower case); undefined for "-". */
  name: string | undefined;
  known: KnownUser | undefined;
  /** The policies worked out for the address the name last came from, in which snapshot. */
  ipv4: number;
  policies: readonly number[];
  snapshot: Snapshot | null;
}

/**
 * The proxy user names seen so far, found from their bytes without making a string: a school has a
 * few thousand names, each logged on thousands of lines, mostly from the same device all day.
 */
class UserTable {
  private hashes = new Int32Array(1 << 10);
  /** entry + 1 per slot; 0 is empty. */
  private slots = new Int32Array(1 << 10);
  private entries: UserEntry[] = [];
  /** The bytes of each name as logged (one character per byte). */
  private raw: string[] = [];

  constructor(private readonly users: ReadonlyMap<string, KnownUser>) {}

  of(bytes: Uint8Array, line: LogLine): UserEntry {
    const start = line.userStart;
    const end = line.userEnd;
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i += 1) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const found = this.slots[slot]!;
      if (found === 0) break;
      if (this.hashes[slot] === hash && sameBytes(this.raw[found - 1]!, bytes, start, end)) return this.entries[found - 1]!;
      slot = (slot + 1) & mask;
    }
    // Names of no one (made up, or from a guest network's authentication) could grow without end: start again.
    if (this.entries.length >= 65_536) {
      this.clear();
      return this.of(bytes, line);
    }
    const name = userText(bytes, line);
    const entry: UserEntry = { name, known: name === undefined ? undefined : this.users.get(name), ipv4: -1, policies: [], snapshot: null };
    this.entries.push(entry);
    this.raw.push(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1'));
    this.slots[slot] = this.entries.length;
    this.hashes[slot] = hash;
    if (this.entries.length * 2 > this.slots.length) this.grow();
    return entry;
  }

  private clear(): void {
    this.entries = [];
    this.raw = [];
    this.hashes = new Int32Array(1 << 10);
    this.slots = new Int32Array(1 << 10);
  }

  private grow(): void {
    const hashes = this.hashes;
    const slots = this.slots;
    this.hashes = new Int32Array(hashes.length * 2);
    this.slots = new Int32Array(slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < slots.length; i += 1) {
      if (slots[i] === 0) continue;
      let slot = hashes[i]! & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = slots[i]!;
      this.hashes[slot] = hashes[i]!;
    }
  }
}

/** Whether bytes[start, end) are the character codes of `raw`. */
function sameBytes(raw: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (raw.length !== end - start) return false;
  for (let i = start; i < end; i += 1) if (raw.charCodeAt(i - start) !== bytes[i]) return false;
  return true;
}

/** A day's subject-day ids by person id, IPv4 number and (other) address text. */
interface DaySubjects {
  byPerson: Map<string, number>;
  byIpv4: Map<number, number>;
  byClient: Map<string, number>;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class Pipeline implements PipelineCounts {
  lines = 0;
  bad = 0;
  /** Lines kept as events (blocked attempts and searches; a blocked search is one event). */
  events = 0;
  searches = 0;
  blocked = 0;
  readonly badSamples: BadLine[] = [];
  private gathered: WebEvent[] = [];
  private hits: Hit[] = [];
  private urgentPending = false;
  /** Traffic counts of this batch per subject-day and host (ids start again at each drain). */
  private traffic = new TrafficTable();
  private subjectDays: SubjectDay[] = [];
  /** Subject-day ids per day id, then per subject id. */
  private readonly subjectsByDay = new Map<string, DaySubjects>();
  private lastDay = '';
  private lastDaySubjects: DaySubjects | null = null;
  private readonly hosts = new HostTable();
  private readonly users: UserTable;
  /** Group codes and categories by number (category 0 is none). */
  private readonly labelIds = new Map<string, number>();
  private readonly labels: Array<string | null> = [null];

  private readonly line = new LogLine();
  private readonly days: SchoolDays;
  private readonly clients = new Map<number, string>();

  constructor(private readonly options: PipelineOptions) {
    this.days = new SchoolDays(options.timeZone);
    this.users = new UserTable(options.users);
  }

  /** Whether what is gathered holds a hit serious enough to tell the DSL at once (so it should be stored now). */
  get urgent(): boolean {
    return this.urgentPending;
  }

  /** Takes what has been gathered since the last call (for one transaction's worth of storage). */
  drain(): Drained {
    const traffic = this.trafficBatch();
    const taken = { events: this.gathered, hits: this.hits, traffic };
    this.gathered = [];
    this.hits = [];
    this.urgentPending = false;
    // Sized for a batch like this one: no growing and rehashing on the way.
    this.traffic = new TrafficTable(traffic.size);
    this.subjectDays = [];
    this.subjectsByDay.clear();
    this.lastDay = '';
    this.lastDaySubjects = null;
    this.hosts.clear();
    this.labelIds.clear();
    this.labels.length = 1;
    return taken;
  }

  /** One line: bytes[start, end) without its newline; lineNo is its place in the source (for the event's key and the report). */
  push(bytes: Uint8Array, start: number, end: number, lineNo: number): void {
    const options = this.options;
    const line = this.line;
    this.lines += 1;
    if (end > start && bytes[end - 1] === 13) end -= 1;
    if (end === start) return; // blank lines are not log lines, and not errors either
    const refused = parseLine(options.format, bytes, start, end, line);
    if (refused !== null) {
      this.refuse(bytes, start, end, lineNo, refused);
      return;
    }
    if (line.urlEnd <= line.urlStart) {
      this.refuse(bytes, start, end, lineNo, 'no URL');
      return;
    }

    // Who: the proxy user name if it is a known person, else the device by its address. The person and
    // the address's text are looked up only for what is kept (below).
    const userEntry = line.userEnd > line.userStart ? this.users.of(bytes, line) : undefined;
    const user = userEntry?.name;
    const engine = options.engine;
    let policies: readonly number[];
    let client: string | undefined;
    const ipv4 = ipv4Number(bytes, line.clientStart, line.clientEnd);
    if (ipv4 !== -1) {
      if (user === undefined) policies = engine.policiesForIpv4(ipv4);
      else if (userEntry!.ipv4 === ipv4 && userEntry!.snapshot === engine.current) policies = userEntry!.policies;
      else {
        policies = userEntry!.policies = engine.policiesForUserIpv4(user, ipv4);
        userEntry!.ipv4 = ipv4;
        userEntry!.snapshot = engine.current;
      }
    } else {
      client = storable(fieldText(bytes, line.clientStart, line.clientEnd));
      policies = engine.policiesForAddress(client || undefined, user);
    }

    const blocked = line.blocked || options.format === 'haven';
    const countTraffic = options.countTraffic !== false;
    // Without traffic counting (the parse-and-match benchmark) every line is classified; with it, only
    // what is kept and the first line of each day, subject and host (below).
    let decision = countTraffic ? undefined : engine.classifyBytes(policies, bytes, line.urlStart, line.urlEnd, line.time);
    hostBounds(bytes, line.urlStart, line.urlEnd);
    const hostStart = hostAt[0]!;
    const hostEnd = hostAt[1]!;
    if (hostEnd === hostStart) {
      this.refuse(bytes, start, end, lineNo, 'no host in the URL');
      return;
    }
    const hosts = this.hosts;
    let hostId = -1;

    let search: { engine: string; term: string } | null = null;
    // The query string comes after the host (which holds no "?"): only the rest of the URL is looked at.
    if (mayBeSearch(bytes, hostEnd, line.urlEnd)) {
      hostId = hosts.id(bytes, hostStart, hostEnd);
      if (hostId === -1) {
        this.refuse(bytes, start, end, lineNo, 'unreadable host');
        return;
      }
      search = extractSearch(hosts.texts[hostId]!, fieldText(bytes, hostEnd, line.urlEnd));
    }
    if (!blocked && search === null && !countTraffic) return;

    if (hostId === -1) {
      hostId = hosts.id(bytes, hostStart, hostEnd);
      if (hostId === -1) {
        this.refuse(bytes, start, end, lineNo, 'unreadable host');
        return;
      }
    }
    const known = userEntry?.known;
    const personId = known?.personId ?? null;
    const day = this.days.of(line.time);

    // Allowed traffic that is not a search is only counted, per day, subject and host: a host seen
    // again that day adds to its count, and only a new one is classified against the snapshot.
    let subjectDay = -1;
    let entry = -1;
    if (countTraffic) {
      subjectDay = this.subjectDayOf(day, personId, ipv4, client, bytes);
      entry = this.traffic.find(subjectDay, hostId);
      if (entry !== -1 && !blocked && search === null) {
        this.traffic.allowed[entry]! += 1;
        return;
      }
    }
    const host = hosts.texts[hostId]!;
    client ??= this.clientText(bytes, ipv4);

    decision ??= engine.classifyBytes(policies, bytes, line.urlStart, line.urlEnd, line.time);
    const loggedCategory = line.categoryEnd > line.categoryStart ? storable(fieldText(bytes, line.categoryStart, line.categoryEnd)) : null;
    const category = loggedCategory ?? decision.category;
    const group = line.groupEnd > line.groupStart && options.format === 'haven' ? storable(fieldText(bytes, line.groupStart, line.groupEnd)) : decision.group;
    if (countTraffic) {
      if (entry !== -1) {
        if (blocked) this.traffic.blocked[entry]! += 1;
        else this.traffic.allowed[entry]! += 1;
      } else this.traffic.add(subjectDay, hostId, this.labelId(group), category === null ? 0 : this.labelId(category), blocked ? 0 : 1, blocked ? 1 : 0);
    }
    if (!blocked && search === null) return;

    const event: WebEvent = {
      lineNo,
      at: line.time,
      day,
      personId,
      // Someone on a staff device without a user name is taken to be staff: their alerts go to the headteacher.
      staff: known ? known.staff : group.startsWith('all_staff:'),
      client,
      group,
      host,
      category,
      verdict: blocked ? 'block' : 'allow',
      searchEngine: search?.engine ?? null,
      searchTerm: search ? storable(search.term) : null,
    };
    this.gathered.push(event);
    this.events += 1;
    if (blocked) {
      this.blocked += 1;
      const severity = category === null ? undefined : options.watchedCategories[category];
      if (severity !== undefined) {
        this.hits.push({ kind: 'blocked', theme: category!, severity, matched: [], event });
        if (severity >= urgentSeverity) this.urgentPending = true;
      }
    }
    if (search !== null) {
      this.searches += 1;
      const threshold = options.thresholds[group] ?? options.defaultThreshold;
      for (const score of scoreText(options.matcher, normaliseText(search.term), threshold)) {
        this.hits.push({ kind: 'phrase', theme: score.theme, severity: score.severity, matched: score.matched, event });
        if (score.severity >= urgentSeverity) this.urgentPending = true;
      }
    }
  }

  /** The client address's text for an IPv4 client (remembered per address); line's own field otherwise. */
  private clientText(bytes: Uint8Array, ipv4: number): string {
    let text = this.clients.get(ipv4);
    if (text === undefined) {
      text = storable(fieldText(bytes, this.line.clientStart, this.line.clientEnd));
      if (ipv4 !== -1) this.clients.set(ipv4, text);
    }
    return text;
  }

  /** The subject-day of a line: its day, and its person or else its device. */
  private subjectDayOf(day: string, personId: string | null, ipv4: number, client: string | undefined, bytes: Uint8Array): number {
    // One lookup a line: the day's subjects by person, IPv4 number or address text.
    const maps = this.daySubjects(day);
    const map = (personId !== null ? maps.byPerson : ipv4 !== -1 ? maps.byIpv4 : maps.byClient) as Map<string | number, number>;
    const key = personId ?? (ipv4 !== -1 ? ipv4 : (client ?? ''));
    let id = map.get(key);
    if (id === undefined) {
      id = this.subjectDays.length;
      const subject = personId !== null ? `p:${personId}` : `ip:${client ?? this.clientText(bytes, ipv4)}`;
      this.subjectDays.push({ day, subject, personId });
      map.set(key, id);
    }
    return id;
  }

  /** The subject-day ids of one day (lines come in time order: usually the last line's day). */
  private daySubjects(day: string): DaySubjects {
    if (day !== this.lastDay || this.lastDaySubjects === null) {
      this.lastDay = day;
      let maps = this.subjectsByDay.get(day);
      if (!maps) this.subjectsByDay.set(day, (maps = { byPerson: new Map(), byIpv4: new Map(), byClient: new Map() }));
      this.lastDaySubjects = maps;
    }
    return this.lastDaySubjects;
  }

  private labelId(label: string): number {
    let id = this.labelIds.get(label);
    if (id === undefined) {
      id = this.labels.length;
      this.labels.push(label);
      this.labelIds.set(label, id);
    }
    return id;
  }

  /**
   * The batch's traffic counts with their key order — day, subject, host, as the daily table's
   * primary key runs — so storing them is one sweep along the index rather than a jump per row.
   */
  private trafficBatch(): TrafficBatch {
    const table = this.traffic;
    const size = table.size;
    const subjectDays = this.subjectDays;
    const hostTexts = this.hosts.texts;
    const byKey = subjectDays
      .map((_, id) => id)
      .sort((a, b) => compareText(subjectDays[a]!.day, subjectDays[b]!.day) || compareText(subjectDays[a]!.subject, subjectDays[b]!.subject));
    const rank = new Int32Array(subjectDays.length);
    byKey.forEach((id, place) => (rank[id] = place));
    // Entries bucketed by their subject-day's rank (a counting sort), then by host within each.
    const starts = new Int32Array(subjectDays.length + 1);
    for (let entry = 0; entry < size; entry += 1) starts[rank[table.subjectDay[entry]!]! + 1]! += 1;
    for (let i = 0; i < subjectDays.length; i += 1) starts[i + 1]! += starts[i]!;
    const order = new Int32Array(size);
    const fill = starts.slice(0, subjectDays.length);
    for (let entry = 0; entry < size; entry += 1) order[fill[rank[table.subjectDay[entry]!]!]!++] = entry;
    const byHost = (a: number, b: number) => compareText(hostTexts[table.host[a]!]!, hostTexts[table.host[b]!]!);
    for (let bucket = 0; bucket < subjectDays.length; bucket += 1)
      if (starts[bucket + 1]! - starts[bucket]! > 1) order.subarray(starts[bucket], starts[bucket + 1]).sort(byHost);
    return {
      size,
      order,
      subjectDay: table.subjectDay.slice(0, size),
      host: table.host.slice(0, size),
      group: table.group.slice(0, size),
      category: table.category.slice(0, size),
      allowed: table.allowed.slice(0, size),
      blocked: table.blocked.slice(0, size),
      subjectDays,
      hosts: hostTexts.slice(),
      labels: this.labels.slice(),
    };
  }

  /** A problem with the source rather than a line (a damaged archive): in the report, with where it happened. */
  note(lineNo: number, reason: string): void {
    this.bad += 1;
    if (this.badSamples.length < maxBadSamples) this.badSamples.push({ line: lineNo, reason, text: '' });
  }

  private refuse(bytes: Uint8Array, start: number, end: number, lineNo: number, reason: string): void {
    this.bad += 1;
    if (this.badSamples.length >= maxBadSamples) return;
    let cut = Math.min(end, start + 200);
    for (let i = start; i < cut; i += 1)
      if (bytes[i] === 63) {
        cut = i;
        break;
      }
    this.badSamples.push({ line: lineNo, reason, text: Buffer.from(bytes.buffer, bytes.byteOffset + start, cut - start).toString('utf8') });
  }
}
