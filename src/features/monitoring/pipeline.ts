import type { FilterEngine } from '../filtering/engine.js';
import { fieldText, LogLine, parseLine, userText, type LogFormat } from './parse.js';
import { scoreText, type PhraseMatcher } from './phrases.js';
import { extractSearch, mayBeSearch, normaliseText } from './search-terms.js';

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

export interface TrafficCount {
  day: string;
  /** "p:<person id>" or "ip:<client address>". */
  subject: string;
  personId: string | null;
  group: string;
  host: string;
  category: string | null;
  allowed: number;
  blocked: number;
}

export interface BadLine {
  line: number;
  reason: string;
  /** The start of the line, cut before any query string (which may hold a search). */
  text: string;
}

const maxBadSamples = 20;

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

/** Where the host of a logged URL starts and ends (after "scheme://", before "/", ":", "?" or "#"). */
function hostBounds(bytes: Uint8Array, start: number, end: number): [number, number] {
  let hostStart = start;
  for (let i = start; i + 2 < end && i < start + 12; i += 1) {
    if (bytes[i] === 58 && bytes[i + 1] === 47 && bytes[i + 2] === 47) {
      hostStart = i + 3;
      break;
    }
  }
  let hostEnd = hostStart;
  while (hostEnd < end) {
    const code = bytes[hostEnd]!;
    if (code === 47 || code === 58 || code === 63 || code === 35) break;
    hostEnd += 1;
  }
  // Userinfo before the host ("user@host") is not the host.
  for (let i = hostEnd - 1; i >= hostStart; i -= 1)
    if (bytes[i] === 64) {
      hostStart = i + 1;
      break;
    }
  return [hostStart, hostEnd];
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

export class Pipeline {
  lines = 0;
  bad = 0;
  /** Lines kept as events (blocked attempts and searches; a blocked search is one event). */
  events = 0;
  searches = 0;
  blocked = 0;
  readonly badSamples: BadLine[] = [];
  private gathered: WebEvent[] = [];
  private hits: Hit[] = [];
  private traffic = new Map<string, TrafficCount>();

  private readonly line = new LogLine();
  private readonly days: SchoolDays;
  private readonly clients = new Map<number, string>();

  constructor(private readonly options: PipelineOptions) {
    this.days = new SchoolDays(options.timeZone);
  }

  /** Takes what has been gathered since the last call (for one transaction's worth of storage). */
  drain(): { events: WebEvent[]; hits: Hit[]; traffic: TrafficCount[] } {
    const taken = { events: this.gathered, hits: this.hits, traffic: [...this.traffic.values()] };
    this.gathered = [];
    this.hits = [];
    this.traffic = new Map();
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
    const user = line.userEnd > line.userStart ? userText(bytes, line) : undefined;
    const engine = options.engine;
    let policies: readonly number[];
    let client: string | undefined;
    const ipv4 = ipv4Number(bytes, line.clientStart, line.clientEnd);
    if (ipv4 !== -1) policies = user === undefined ? engine.policiesForIpv4(ipv4) : engine.policiesForUserIpv4(user, ipv4);
    else {
      client = storable(fieldText(bytes, line.clientStart, line.clientEnd));
      policies = engine.policiesForAddress(client || undefined, user);
    }

    const blocked = line.blocked || options.format === 'haven';
    const countTraffic = options.countTraffic !== false;
    // Without traffic counting (the parse-and-match benchmark) every line is classified; with it, only
    // what is kept and the first line of each day, subject and host (below).
    let decision = countTraffic ? undefined : engine.decideBytes(policies, bytes, line.urlStart, line.urlEnd, line.time);
    const [hostStart, hostEnd] = hostBounds(bytes, line.urlStart, line.urlEnd);
    if (hostEnd === hostStart) {
      this.refuse(bytes, start, end, lineNo, 'no host in the URL');
      return;
    }
    let host: string | null | undefined;

    let search: { engine: string; term: string } | null = null;
    if (mayBeSearch(bytes, line.urlStart, line.urlEnd)) {
      host = lowerHost(bytes, hostStart, hostEnd);
      if (host === null) {
        this.refuse(bytes, start, end, lineNo, 'unreadable host');
        return;
      }
      search = extractSearch(host, fieldText(bytes, hostEnd, line.urlEnd));
    }
    if (!blocked && search === null && !countTraffic) return;

    host ??= lowerHost(bytes, hostStart, hostEnd);
    if (host === null) {
      this.refuse(bytes, start, end, lineNo, 'unreadable host');
      return;
    }
    if (client === undefined) {
      client = this.clients.get(ipv4);
      if (client === undefined) {
        client = storable(fieldText(bytes, line.clientStart, line.clientEnd));
        this.clients.set(ipv4, client);
      }
    }
    const known = user === undefined ? undefined : options.users.get(user);
    const day = this.days.of(line.time);
    const personId = known?.personId ?? null;

    // Allowed traffic that is not a search is only counted, per day, subject and host: a host seen
    // again that day adds to its count, and only a new one is classified against the snapshot.
    let count: TrafficCount | undefined;
    let key = '';
    if (countTraffic) {
      key = `${day}|${personId !== null ? `p:${personId}` : `ip:${client}`}|${host}`;
      count = this.traffic.get(key);
      if (count && !blocked && search === null) {
        count.allowed += 1;
        return;
      }
    }

    decision ??= engine.decideBytes(policies, bytes, line.urlStart, line.urlEnd, line.time);
    const loggedCategory = line.categoryEnd > line.categoryStart ? storable(fieldText(bytes, line.categoryStart, line.categoryEnd)) : null;
    const category = loggedCategory ?? decision.category;
    const group = line.groupEnd > line.groupStart && options.format === 'haven' ? storable(fieldText(bytes, line.groupStart, line.groupEnd)) : decision.group;
    if (countTraffic) {
      if (count) {
        if (blocked) count.blocked += 1;
        else count.allowed += 1;
      } else
        this.traffic.set(key, {
          day,
          subject: personId !== null ? `p:${personId}` : `ip:${client}`,
          personId,
          group,
          host,
          category,
          allowed: blocked ? 0 : 1,
          blocked: blocked ? 1 : 0,
        });
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
      if (severity !== undefined) this.hits.push({ kind: 'blocked', theme: category!, severity, matched: [], event });
    }
    if (search !== null) {
      this.searches += 1;
      const threshold = options.thresholds[group] ?? options.defaultThreshold;
      for (const score of scoreText(options.matcher, normaliseText(search.term), threshold))
        this.hits.push({ kind: 'phrase', theme: score.theme, severity: score.severity, matched: score.matched, event });
    }
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
