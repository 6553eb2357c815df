/**
 * Web-activity log parsers for monitoring (DESIGN.md "Monitoring pipeline": log line → parse → …). A pure
 * module: no database, no HTTP, no clock.
 *
 * A line is read straight from the bytes it arrived in. `parseLine` fills a reused `LogLine` with numbers
 * and offsets into those bytes, so the hot path makes no strings and allocates nothing; a field becomes a
 * string (`fieldText`, `userText`) only when a later stage needs it.
 *
 * Formats:
 *
 * - `squid`: Squid's native access.log, `%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`,
 *   fields separated by runs of spaces; extra trailing fields (a customised `logformat`) are ignored. The
 *   URL ends at the next space (Squid strips or escapes whitespace in the URLs it logs) and the user is
 *   URL-escaped (`%[un`), so `userText` decodes it.
 *   Blocked when the result code contains `DENIED` (`TCP_DENIED/403`, `TCP_DENIED_REPLY/403`, …).
 *
 * - `e2guardian`: `logfileformat = 8` (tab-separated; 5, 6 and 7 share the layout and are read too).
 *   Field order as written by `log_listener()` in e2guardian's src/FatController.cpp (v5.4+; the "case 5 …
 *   case 8" branch, then "if (log_file_format > 6)" appends search terms and flags), and as documented on
 *   the e2guardian wiki page "Access Log File Format" (github.com/e2guardian/wiki/wiki/Access-Log-File-Format):
 *
 *     0 time: `utime`, epoch seconds "." milliseconds (`1764672000.123`) — not local time in formats 5–8
 *     1 server name (always empty in formats 6 and 8)
 *     2 user (`who`; the IP or port when those were used to authenticate — see below)
 *     3 client IP (`from`)
 *     4 client host name (= client IP unless `logclienthostnames`) — only with `logclientnameandip = on`;
 *       without it this field is left out and field 3 is the host name if known, else the IP
 *     5 URL (`where`; a non-standard port is put into it)
 *     6 method · 7 HTTP status · 8 size in bytes · 9 MIME type · 10 user agent (blank unless `loguseragent`)
 *     11 Squid result code (always blank) · 12 duration in ms · 13 Squid peer code (always blank)
 *     14 e2guardian message number · 15 "what": markers and reason, e.g. `*DENIED* Banned site: x.example`,
 *        `*EXCEPTION* Exception site match.`, `*SCANNED* …`, `*DENIED-POST* …` · 16 weight
 *     17 category (the matched list's category, often blank) · 18 filter group name · 19 filter group number
 *     20 search terms (formats 7 and 8 only) · 21 flags (formats 7 and 8 only)
 *
 *   Which of the two client layouts a line uses is decided per line (the method and numeric status shift
 *   one place left when field 4 is absent). Blank fields are `-` with `usedashforblank` (the default) and
 *   empty without it; some (the server name) are empty either way, so both count as none. Blocked when one of
 *   the leading `*…*` markers of "what" contains `DENIED` (e2guardian's ukenglish word; other languages
 *   translate it). The category is taken from the category field only: the reason text names the rule or
 *   site (`Banned site: …`), not a category.
 *
 * - `haven`: Haven's own decision log, written by `runHelper` in src/features/filtering/helper.ts — one
 *   tab-separated line per block: ISO time, client address, user, group, action, category, rule, host,
 *   snapshot; `-` for empty. Its URL is the host only (data minimisation: the helper never logs more).
 */

export type LogFormat = 'squid' | 'e2guardian' | 'haven';

export const logFormats: readonly LogFormat[] = Object.freeze(['squid', 'e2guardian', 'haven'] as const);

/** Why a line was refused: short, fixed texts (never any of the line's content, which may be personal). */
export type LineRefusal =
  'empty line' | 'too few fields' | 'bad time' | 'bad duration' | 'bad status' | 'bad size' | 'no URL' | 'unknown format' | 'unreadable line';

/** Lines longer than this are handed on cut by `LineSplitter`. */
export const maxLineBytes = 64 * 1024;

/** One parsed line, reused between lines: offsets into the line's bytes rather than strings, so parsing allocates nothing. */
export class LogLine {
  /** The format the line was parsed as. */
  format: LogFormat = 'squid';
  /** Epoch milliseconds. */
  time = 0;
  /** Client address (clientStart === clientEnd: none). */
  clientStart = 0;
  clientEnd = 0;
  /** Proxy user name as logged, '-' counted as none (start === end). */
  userStart = 0;
  userEnd = 0;
  /** Request method (haven format: none). */
  methodStart = 0;
  methodEnd = 0;
  /** The URL as logged (CONNECT: host:port; haven: the host). */
  urlStart = 0;
  urlEnd = 0;
  /** HTTP status, 0 when unknown. */
  status = 0;
  /** The proxy refused it. */
  blocked = false;
  /** Category named by the log itself (e2guardian/haven), else empty. */
  categoryStart = 0;
  categoryEnd = 0;
  /** Filter group named by the log (e2guardian/haven), else empty. */
  groupStart = 0;
  groupEnd = 0;
  /** Response size, 0 when unknown. */
  bytes = 0;
  /** How long the request took in milliseconds (squid, e2guardian), 0 when unknown. */
  elapsed = 0;
  /** What the proxy said about it: Squid's result code (`TCP_DENIED`), e2guardian's "what" text, Haven's rule. */
  reasonStart = 0;
  reasonEnd = 0;
  /** Search terms e2guardian extracted itself (formats 7 and 8, search sites only), else empty. */
  searchStart = 0;
  searchEnd = 0;
  /** e2guardian's filter group number (1-based), 0 when unknown or another format. */
  groupNumber = 0;

  /** Back to "nothing known", keeping the object (and its shape) for the next line. */
  reset(format: LogFormat): void {
    this.format = format;
    this.time = 0;
    this.clientStart = this.clientEnd = 0;
    this.userStart = this.userEnd = 0;
    this.methodStart = this.methodEnd = 0;
    this.urlStart = this.urlEnd = 0;
    this.status = 0;
    this.blocked = false;
    this.categoryStart = this.categoryEnd = 0;
    this.groupStart = this.groupEnd = 0;
    this.bytes = 0;
    this.elapsed = 0;
    this.reasonStart = this.reasonEnd = 0;
    this.searchStart = this.searchEnd = 0;
    this.groupNumber = 0;
  }
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const DASH = 45;
const DOT = 46;
const SLASH = 47;
const STAR = 42;
const ZERO = 48;
const NINE = 57;

/** Field boundaries of the line being parsed (module scratch: parsing is synchronous, so one set is enough). */
const maxFields = 32;
const fieldStart = new Int32Array(maxFields);
const fieldEnd = new Int32Array(maxFields);

/**
 * Parses bytes[start, end) (one line, without its "\n"; a trailing "\r" is tolerated) into `out`. Returns
 * null when good, or a short reason when the line is refused (`out` then holds nothing useful). Never throws.
 */
export function parseLine(format: LogFormat, bytes: Uint8Array, start: number, end: number, out: LogLine): LineRefusal | null {
  try {
    out.reset(format);
    let s = start > 0 ? start : 0;
    let e = end < bytes.length ? end : bytes.length;
    if (e > s && bytes[e - 1] === CR) e -= 1;
    // Squid pads with spaces, so blanks (any control byte or space) at either end are not fields; in the tab-separated formats a
    // trailing tab ends an empty last field and must stay.
    if (format === 'squid') {
      while (e > s && bytes[e - 1]! <= SPACE) e -= 1;
      while (s < e && bytes[s]! <= SPACE) s += 1;
    }
    if (!(e > s) || isBlankLine(bytes, s, e)) return 'empty line';
    switch (format) {
      case 'squid':
        return parseSquid(bytes, s, e, out);
      case 'e2guardian':
        return parseE2guardian(bytes, s, e, out);
      case 'haven':
        return parseHaven(bytes, s, e, out);
      default:
        // A caller outside TypeScript's reach (a config value) may pass anything.
        return 'unknown format';
    }
  } catch {
    // Not expected (every index is bounds-checked), but a parser of untrusted input must not take the ingester down.
    out.reset(format);
    return 'unreadable line';
  }
}

function isBlankLine(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i += 1) if (b[i] !== SPACE && b[i] !== TAB && b[i] !== CR) return false;
  return true;
}

/** A field that says "nothing": empty or a lone "-". */
function isBlank(b: Uint8Array, s: number, e: number): boolean {
  return e <= s || (e - s === 1 && b[s] === DASH);
}

/** Digits only → their value; -1 when empty, not all digits, or too long to be exact. */
function digits(b: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return -1;
  let value = 0;
  for (let i = s; i < e; i += 1) {
    const c = b[i]!;
    if (c < ZERO || c > NINE) return -1;
    value = value * 10 + (c - ZERO);
  }
  return value;
}

/** A count that may be blank ("-" or empty) → 0; -1 when it is something else. */
function countOrBlank(b: Uint8Array, s: number, e: number): number {
  return isBlank(b, s, e) ? 0 : digits(b, s, e);
}

/** `1764672000.123` (or `1764672000`, or more fractional digits) → epoch ms without making a string; -1 when bad. */
function epochMs(b: Uint8Array, s: number, e: number): number {
  let seconds = 0;
  let i = s;
  for (; i < e; i += 1) {
    const c = b[i]!;
    if (c < ZERO || c > NINE) break;
    seconds = seconds * 10 + (c - ZERO);
  }
  if (i === s || i - s > 12) return -1;
  if (i === e) return seconds * 1000;
  if (b[i] !== DOT) return -1;
  i += 1;
  const fraction = i;
  let ms = 0;
  for (; i < e; i += 1) {
    const c = b[i]!;
    if (c < ZERO || c > NINE) return -1;
    // Digits past the milliseconds are dropped (truncated, as Squid's own %03tu is).
    if (i - fraction < 3) ms = ms * 10 + (c - ZERO);
  }
  const kept = i - fraction;
  if (kept === 0) return -1;
  return seconds * 1000 + (kept === 1 ? ms * 100 : kept === 2 ? ms * 10 : ms);
}

/** Whether b[s, e) contains the ASCII bytes of "DENIED". */
function hasDenied(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i + 6 <= e; i += 1) {
    if (b[i] === 68 && b[i + 1] === 69 && b[i + 2] === 78 && b[i + 3] === 73 && b[i + 4] === 69 && b[i + 5] === 68) return true;
  }
  return false;
}

/** Whether b[s, e) holds exactly the given ASCII text. */
function isAscii(b: Uint8Array, s: number, e: number, text: string): boolean {
  if (e - s !== text.length) return false;
  for (let i = 0; i < text.length; i += 1) if (b[s + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Whether two byte ranges hold the same bytes. */
function sameBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  if (e1 - s1 !== e2 - s2) return false;
  for (let i = 0; i < e1 - s1; i += 1) if (b[s1 + i] !== b[s2 + i]) return false;
  return true;
}

/**
 * Where the field read by the last `read…` call ended ([0]): a second result without allocating. A typed
 * array rather than a module-level `let`, which V8 reads with a check for "not yet initialised" each time.
 */
const scanned = new Int32Array(1);

/** Skips the blanks before a field (any byte up to the space: Squid pads with runs of them). */
function skipBlanks(b: Uint8Array, i: number, e: number): number {
  while (i < e && b[i]! <= SPACE) i += 1;
  return i;
}

/** Reads a field of any content from i; its end goes to scanned[0]. */
function readField(b: Uint8Array, i: number, e: number): void {
  while (i < e && b[i]! > SPACE) i += 1;
  scanned[0] = i;
}

/** Reads a count (digits, or "-" for none) from i as it scans the field: its value, or -1; its end goes to scanned[0]. */
function readCount(b: Uint8Array, i: number, e: number): number {
  const start = i;
  let value = 0;
  for (; i < e; i += 1) {
    const c = b[i]!;
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
  }
  if (i < e && b[i]! > SPACE) {
    const dash = i === start && b[i] === DASH && (i + 1 === e || b[i + 1]! <= SPACE);
    readField(b, i, e);
    return dash ? 0 : -1;
  }
  scanned[0] = i;
  return i > start && i - start <= 15 ? value : -1;
}

/** Reads the time (`1764672000.123`) from i as it scans the field: epoch ms, or -1; its end goes to scanned[0]. */
function readTime(b: Uint8Array, i: number, e: number): number {
  const start = i;
  while (i < e && b[i]! > SPACE) i += 1;
  scanned[0] = i;
  return epochMs(b, start, i);
}

// Squid native: time elapsed client code/status bytes method URL user hierarchy/peer type [extras…]
function parseSquid(b: Uint8Array, s: number, e: number, out: LogLine): LineRefusal | null {
  // One pass over the first eight fields, up to the user, reading the counts as they are scanned; what
  // is wrong with a field is told only once the line is known to have all its fields.
  const time = readTime(b, s, e);
  let i = skipBlanks(b, scanned[0]!, e);
  if (i >= e) return 'too few fields';
  const elapsed = readCount(b, i, e);
  i = skipBlanks(b, scanned[0]!, e);
  if (i >= e) return 'too few fields';
  const clientStart = i;
  readField(b, i, e);
  const clientEnd = scanned[0]!;
  i = skipBlanks(b, clientEnd, e);
  if (i >= e) return 'too few fields';
  // code/status: TCP_MISS/200, TCP_DENIED/403, NONE_NONE/000 (aborted or unanswered: status unknown).
  const codeStart = i;
  while (i < e && b[i]! > SPACE && b[i] !== SLASH) i += 1;
  const slash = i;
  readField(b, i, e);
  const codeEnd = scanned[0]!;
  i = skipBlanks(b, codeEnd, e);
  if (i >= e) return 'too few fields';
  const size = readCount(b, i, e);
  i = skipBlanks(b, scanned[0]!, e);
  if (i >= e) return 'too few fields';
  const methodStart = i;
  readField(b, i, e);
  const methodEnd = scanned[0]!;
  i = skipBlanks(b, methodEnd, e);
  if (i >= e) return 'too few fields';
  // The URL, often long: its end is found natively. Squid escapes whitespace inside a logged URL, so the
  // next space ends it.
  const urlStart = i;
  const space = b.indexOf(SPACE, i);
  const urlEnd = space === -1 || space > e ? e : space;
  i = skipBlanks(b, urlEnd, e);
  if (i >= e) return 'too few fields';
  const userStart = i;
  readField(b, i, e);
  const userEnd = scanned[0]!;
  // Hierarchy/peer and MIME type must follow, perhaps with extra fields after them. Rather than walk
  // them all, step back over the last field from the end: at least one more field must lie between it
  // and the user.
  let last = e;
  while (last > userEnd && b[last - 1]! > SPACE) last -= 1;
  let gap = last;
  while (gap > userEnd && b[gap - 1]! <= SPACE) gap -= 1;
  if (last <= userEnd || gap <= userEnd) return 'too few fields';
  if (time < 0) return 'bad time';
  if (elapsed < 0) return 'bad duration';
  if (slash >= codeEnd || codeEnd - slash - 1 > 3) return 'bad status';
  const status = digits(b, slash + 1, codeEnd);
  if (status < 0) return 'bad status';
  if (size < 0) return 'bad size';
  if (isBlank(b, urlStart, urlEnd)) return 'no URL';
  out.time = time;
  out.elapsed = elapsed;
  out.clientStart = clientStart;
  out.clientEnd = clientEnd;
  out.reasonStart = codeStart;
  out.reasonEnd = slash;
  out.status = status;
  out.blocked = hasDenied(b, codeStart, slash);
  out.bytes = size;
  out.methodStart = methodStart;
  out.methodEnd = methodEnd;
  out.urlStart = urlStart;
  out.urlEnd = urlEnd;
  if (!isBlank(b, userStart, userEnd)) {
    out.userStart = userStart;
    out.userEnd = userEnd;
  }
  return null;
}

/** Splits b[s, e) at single tabs (empty fields kept) into the scratch arrays; returns how many fields. */
function splitTabs(b: Uint8Array, s: number, e: number): number {
  let n = 0;
  let i = s;
  for (;;) {
    fieldStart[n] = i;
    // Most fields are short and a loop finds their end quickest; a long one (the URL, a reason) is left
    // to the native search once it has run past 32 bytes.
    const quick = e - i > 32 ? i + 32 : e;
    while (i < quick && b[i] !== TAB) i += 1;
    if (i === quick && i < e) {
      const tab = b.indexOf(TAB, i);
      i = tab === -1 || tab > e ? e : tab;
    }
    fieldEnd[n] = i;
    n += 1;
    if (i >= e || n === maxFields) return n;
    i += 1;
  }
}

/** A request method: 1–20 upper-case letters (GET, CONNECT, PROPFIND …). */
function isMethod(b: Uint8Array, s: number, e: number): boolean {
  if (e <= s || e - s > 20) return false;
  for (let i = s; i < e; i += 1) if (b[i]! < 65 || b[i]! > 90) return false;
  return true;
}

/** Whether e2guardian's "what" starts with a `*…*` marker that contains DENIED (`*DENIED*`, `*DENIED-POST*`, after `*SCANNED*` …). */
function whatSaysDenied(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e && b[i] === STAR) {
    let close = i + 1;
    while (close < e && b[close] !== STAR && b[close] !== SPACE) close += 1;
    if (close >= e || b[close] !== STAR) return false;
    if (hasDenied(b, i + 1, close)) return true;
    i = close + 1;
    while (i < e && b[i] === SPACE) i += 1;
  }
  return false;
}

function parseE2guardian(b: Uint8Array, s: number, e: number, out: LogLine): LineRefusal | null {
  const n = splitTabs(b, s, e);
  if (n < 7) return 'too few fields';
  // With `logclientnameandip = off` the host-name column is left out and everything after it moves one
  // place left: then field 5 is the method and field 6 the status.
  const oneClientField = isMethod(b, fieldStart[5]!, fieldEnd[5]!) && digits(b, fieldStart[6]!, fieldEnd[6]!) >= 0;
  const u = oneClientField ? 4 : 5; // the URL's field
  if (n < u + 15) return 'too few fields';
  const time = epochMs(b, fieldStart[0]!, fieldEnd[0]!);
  if (time < 0) return 'bad time';
  const status = digits(b, fieldStart[u + 2]!, fieldEnd[u + 2]!);
  if (status < 0 || fieldEnd[u + 2]! - fieldStart[u + 2]! > 3) return 'bad status';
  const size = countOrBlank(b, fieldStart[u + 3]!, fieldEnd[u + 3]!);
  if (size < 0) return 'bad size';
  const urlStart = fieldStart[u]!;
  const urlEnd = fieldEnd[u]!;
  if (isBlank(b, urlStart, urlEnd)) return 'no URL';
  out.time = time;
  out.urlStart = urlStart;
  out.urlEnd = urlEnd;
  out.status = status;
  out.bytes = size;
  // A duration can come out negative when the clock steps; it is not worth refusing the line for.
  const elapsed = digits(b, fieldStart[u + 7]!, fieldEnd[u + 7]!);
  out.elapsed = elapsed > 0 ? elapsed : 0;
  if (!isBlank(b, fieldStart[3]!, fieldEnd[3]!)) {
    out.clientStart = fieldStart[3]!;
    out.clientEnd = fieldEnd[3]!;
  }
  // The ip and port auth plugins log the client address as the "user" when there is no name.
  const userStart = fieldStart[2]!;
  const userEnd = fieldEnd[2]!;
  if (!isBlank(b, userStart, userEnd) && !sameBytes(b, userStart, userEnd, out.clientStart, out.clientEnd)) {
    out.userStart = userStart;
    out.userEnd = userEnd;
  }
  if (!isBlank(b, fieldStart[u + 1]!, fieldEnd[u + 1]!)) {
    out.methodStart = fieldStart[u + 1]!;
    out.methodEnd = fieldEnd[u + 1]!;
  }
  const whatStart = fieldStart[u + 10]!;
  const whatEnd = fieldEnd[u + 10]!;
  if (!isBlank(b, whatStart, whatEnd)) {
    out.reasonStart = whatStart;
    out.reasonEnd = whatEnd;
    out.blocked = whatSaysDenied(b, whatStart, whatEnd);
  }
  if (!isBlank(b, fieldStart[u + 12]!, fieldEnd[u + 12]!)) {
    out.categoryStart = fieldStart[u + 12]!;
    out.categoryEnd = fieldEnd[u + 12]!;
  }
  if (!isBlank(b, fieldStart[u + 13]!, fieldEnd[u + 13]!)) {
    out.groupStart = fieldStart[u + 13]!;
    out.groupEnd = fieldEnd[u + 13]!;
  }
  const groupNumber = digits(b, fieldStart[u + 14]!, fieldEnd[u + 14]!);
  out.groupNumber = groupNumber > 0 ? groupNumber : 0;
  if (n > u + 15 && !isBlank(b, fieldStart[u + 15]!, fieldEnd[u + 15]!)) {
    out.searchStart = fieldStart[u + 15]!;
    out.searchEnd = fieldEnd[u + 15]!;
  }
  return null;
}

/** Digits at b[i, i + count) → value, or -1. */
function fixedDigits(b: Uint8Array, i: number, count: number, e: number): number {
  return i + count <= e ? digits(b, i, i + count) : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `2025-12-02T10:00:00.000Z` (what `Date.prototype.toISOString` writes; the fraction optional, a `±HH:MM`
 * offset accepted in place of `Z`) → epoch ms; -1 when bad.
 */
function isoMs(b: Uint8Array, s: number, e: number): number {
  const year = fixedDigits(b, s, 4, e);
  const month = fixedDigits(b, s + 5, 2, e);
  const day = fixedDigits(b, s + 8, 2, e);
  const hour = fixedDigits(b, s + 11, 2, e);
  const minute = fixedDigits(b, s + 14, 2, e);
  const second = fixedDigits(b, s + 17, 2, e);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  if (b[s + 4] !== DASH || b[s + 7] !== DASH || (b[s + 10] !== 84 && b[s + 10] !== SPACE) || b[s + 13] !== 58 || b[s + 16] !== 58) return -1;
  if (day > daysInMonth(year, month)) return -1;
  let i = s + 19;
  let ms = 0;
  if (i < e && b[i] === DOT) {
    i += 1;
    let scale = 100;
    const fractionStart = i;
    while (i < e && b[i]! >= ZERO && b[i]! <= NINE) {
      ms += (b[i]! - ZERO) * scale;
      scale = scale / 10;
      i += 1;
    }
    if (i === fractionStart) return -1;
    ms = Math.floor(ms);
  }
  let offsetMinutes = 0;
  if (i < e && (b[i] === 90 || b[i] === 122)) i += 1;
  else if (i < e && (b[i] === 43 || b[i] === DASH)) {
    const sign = b[i] === DASH ? -1 : 1;
    const offsetHours = fixedDigits(b, i + 1, 2, e);
    const offsetMins = fixedDigits(b, i + 4, 2, e);
    if (offsetHours < 0 || offsetHours > 23 || offsetMins < 0 || offsetMins > 59 || b[i + 3] !== 58) return -1;
    offsetMinutes = sign * (offsetHours * 60 + offsetMins);
    i += 6;
  } else return -1;
  if (i !== e) return -1;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

// Haven decision log: time client user group action category rule host snapshot
function parseHaven(b: Uint8Array, s: number, e: number, out: LogLine): LineRefusal | null {
  const n = splitTabs(b, s, e);
  if (n < 9) return 'too few fields';
  const time = isoMs(b, fieldStart[0]!, fieldEnd[0]!);
  if (time < 0) return 'bad time';
  const hostStart = fieldStart[7]!;
  const hostEnd = fieldEnd[7]!;
  if (isBlank(b, hostStart, hostEnd)) return 'no URL';
  out.time = time;
  out.urlStart = hostStart;
  out.urlEnd = hostEnd;
  if (!isBlank(b, fieldStart[1]!, fieldEnd[1]!)) {
    out.clientStart = fieldStart[1]!;
    out.clientEnd = fieldEnd[1]!;
  }
  if (!isBlank(b, fieldStart[2]!, fieldEnd[2]!)) {
    out.userStart = fieldStart[2]!;
    out.userEnd = fieldEnd[2]!;
  }
  if (!isBlank(b, fieldStart[3]!, fieldEnd[3]!)) {
    out.groupStart = fieldStart[3]!;
    out.groupEnd = fieldEnd[3]!;
  }
  // The helper logs blocks only, but read the action rather than assume it.
  out.blocked = isAscii(b, fieldStart[4]!, fieldEnd[4]!, 'block');
  if (!isBlank(b, fieldStart[5]!, fieldEnd[5]!)) {
    out.categoryStart = fieldStart[5]!;
    out.categoryEnd = fieldEnd[5]!;
  }
  if (!isBlank(b, fieldStart[6]!, fieldEnd[6]!)) {
    out.reasonStart = fieldStart[6]!;
    out.reasonEnd = fieldEnd[6]!;
  }
  return null;
}

const utf8 = new TextDecoder('utf-8');

/** A field as text (UTF-8; invalid bytes become U+FFFD); '' for an empty field. */
export function fieldText(bytes: Uint8Array, start: number, end: number): string {
  const s = start > 0 ? start : 0;
  const e = end < bytes.length ? end : bytes.length;
  if (!(e > s)) return '';
  if (bytes instanceof Buffer) return bytes.toString('utf8', s, e);
  return utf8.decode(bytes.subarray(s, e));
}

/** The user as a lower-case name: URL-decoded (Squid escapes it; Haven's own log holds it decoded already); undefined when none. */
export function userText(bytes: Uint8Array, line: LogLine): string | undefined {
  if (!(line.userEnd > line.userStart)) return undefined;
  let text = fieldText(bytes, line.userStart, line.userEnd);
  if (line.format !== 'haven' && text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // A stray "%" that is not an escape: keep the name as logged.
    }
  }
  text = text.trim().toLowerCase();
  return text === '' || text === '-' ? undefined : text;
}

export type LineHandler = (bytes: Buffer, start: number, end: number, lineNumber: number, offsetAfter: number) => void;

/**
 * Cuts a byte stream (a file, a gunzipped file, an HTTP body) into lines. For each complete line it calls
 * onLine(bytes, start, end, lineNumber, offsetAfter): the line is bytes[start, end) without its "\n" or the
 * "\r" before it; lineNumber counts from 1 (after `startLine` lines already read); offsetAfter is the
 * offset in the (uncompressed) stream just past the line's "\n" — where to start again to read the next
 * line. `bytes` is the caller's chunk or the splitter's own buffer, reused: copy what must outlive the call.
 * `push` copies the partial line it keeps, so the caller may reuse its chunk's memory once `push` returns.
 * The counts move on before onLine is called: if it throws, the error goes to the caller of `push` and the
 * rest of that chunk is not read.
 *
 * A partial last line is kept for the next `push`; `flush()` hands it over at the end of the input. A line
 * longer than `maxLineBytes` is handed over cut to its first `maxLineBytes` bytes (the rest is skipped, never
 * buffered), once its "\n" arrives, so one endless line cannot grow memory without bound.
 */
export class LineSplitter {
  private readonly onLine: LineHandler;
  private lines: number;
  /** Stream offset just past the last line handed over. */
  private done: number;
  /** The start of a line that continues in the next chunk: up to maxLineBytes + 1 bytes (room for a "\r"). */
  private carry: Buffer | null = null;
  private carried = 0;
  /** Bytes of the pending line seen so far, including any skipped past the cut. */
  private pending = 0;

  constructor(onLine: LineHandler, startLine = 0, startOffset = 0) {
    this.onLine = onLine;
    this.lines = startLine;
    this.done = startOffset;
  }

  /** Stream offset just past the last line handed over: a caller that stops here and resumes from it loses nothing. */
  get offset(): number {
    return this.done;
  }

  /** How many lines have been handed over (including `startLine`): the number of the last one. */
  get lineNumber(): number {
    return this.lines;
  }

  /** Bytes held back as the start of an unfinished line. */
  get buffered(): number {
    return this.pending;
  }

  push(chunk: Buffer): void {
    let position = 0;
    if (this.pending > 0) {
      const newline = chunk.indexOf(10);
      if (newline === -1) {
        this.keep(chunk, 0, chunk.length);
        return;
      }
      this.keep(chunk, 0, newline);
      this.emitCarried(1);
      position = newline + 1;
    }
    const length = chunk.length;
    while (position < length) {
      const newline = chunk.indexOf(10, position);
      if (newline === -1) break;
      let end = newline;
      if (end > position && chunk[end - 1] === CR) end -= 1;
      if (end - position > maxLineBytes) end = position + maxLineBytes;
      this.lines += 1;
      this.done += newline + 1 - position;
      this.onLine(chunk, position, end, this.lines, this.done);
      position = newline + 1;
    }
    if (position < length) this.keep(chunk, position, length);
  }

  /** Hands over a last line that has no "\n" (call at the end of the input). */
  flush(): void {
    if (this.pending > 0) this.emitCarried(0);
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    const room = maxLineBytes + 1 - this.carried;
    const take = Math.min(room, end - start);
    if (take > 0) {
      this.carry ??= Buffer.allocUnsafe(maxLineBytes + 1);
      chunk.copy(this.carry, this.carried, start, start + take);
      this.carried += take;
    }
    this.pending += end - start;
  }

  private emitCarried(newlineBytes: number): void {
    const carry = this.carry ?? Buffer.alloc(0);
    let end = this.carried;
    if (end > 0 && carry[end - 1] === CR) end -= 1;
    if (end > maxLineBytes) end = maxLineBytes;
    this.lines += 1;
    this.done += this.pending + newlineBytes;
    this.carried = 0;
    this.pending = 0;
    this.onLine(carry, 0, end, this.lines, this.done);
  }
}
