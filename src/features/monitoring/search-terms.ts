/**
 * Search-term extraction and text normalisation for the monitoring pipeline (DESIGN.md "Monitoring
 * pipeline": … → extract search terms → phrase matcher). Pure: no database, no HTTP.
 *
 * Data minimisation (DESIGN.md "Security and privacy rules"): only the extracted term leaves this
 * module — never the query string it came from — and it is cut to 200 characters.
 */

export interface ExtractedSearch {
  /** "google", "youtube", "kiddle", … or, for the generic rule, the host without "www.". */
  engine: string;
  term: string;
}

export const maxTermLength = 200;

interface Engine {
  engine: string;
  /**
   * Every host of the engine's domain. Once a host is in a family only that engine's rule applies, so
   * its redirectors, suggestion and API endpoints (google.com/url?q=, suggestqueries.google.com/complete/search?q=,
   * duckduckgo.com/ac/?q=, en.wikipedia.org/w/rest.php/v1/search/title?q=) never reach the generic rule.
   */
  family: RegExp;
  /** The hosts within the family that serve result pages; the whole family when absent. */
  host?: RegExp;
  /** Lower-case path, without the query. */
  path: RegExp;
  /** Parameter names that carry the term, in order of preference (case-sensitive, as the engines are). */
  params: readonly string[];
}

// Child-safe engines: Kiddle's /s.php?q= and KidRex's /results/?q= were confirmed from public code that
// builds their URLs, KidzSearch's /kzsearch.php?q= and Kidtopia's /searchresults.html?q= likewise. Swiggle's
// result URL could not be confirmed, so it takes `q` (the Google Programmable Search default) on any path.
// Engines built on Google Programmable Search may keep the term in the fragment (#gsc.q=), which never
// reaches a proxy log: those searches cannot be seen.
const engines: readonly Engine[] = [
  {
    engine: 'google',
    family: /(?:^|\.)google\.(?:com|co\.[a-z]{2}|com\.[a-z]{2}|[a-z]{2,3})$/,
    host: /^(?:www\.)?google\./,
    // Web, images (tbm=isch) and videos all use /search. Maps (/maps?q=, /maps/search/…) is left out on
    // purpose: place look-ups are mostly addresses — personal data — and rarely a safeguarding signal.
    path: /^\/search$/,
    params: ['q'],
  },
  { engine: 'bing', family: /(?:^|\.)bing\.com$/, host: /^(?:www\.|cn\.)?bing\.com$/, path: /^\/(?:(?:images|videos|news|shop)\/)?search$/, params: ['q'] },
  {
    engine: 'duckduckgo',
    family: /(?:^|\.)duckduckgo\.com$/,
    host: /^(?:www\.|html\.|lite\.|safe\.)?duckduckgo\.com$/,
    path: /^\/(?:html\/?|lite\/?)?$/,
    params: ['q'],
  },
  { engine: 'yahoo', family: /(?:^|\.)yahoo\.com$/, host: /(?:^|\.)search\.yahoo\.com$/, path: /^\/search(?:[/;]|$)/, params: ['p'] },
  { engine: 'ecosia', family: /(?:^|\.)ecosia\.org$/, host: /^(?:www\.)?ecosia\.org$/, path: /^\/(?:search|images|videos|news)\/?$/, params: ['q'] },
  { engine: 'youtube', family: /(?:^|\.)youtube\.com$/, host: /^(?:www\.|m\.)?youtube\.com$/, path: /^\/results$/, params: ['search_query'] },
  // /w/index.php?search= and /wiki/Special:Search?search= (and its translations, e.g. /wiki/Spezial:Suche).
  { engine: 'wikipedia', family: /(?:^|\.)wikipedia\.org$/, path: /^\/(?:w\/index\.php$|wiki\/)/, params: ['search'] },
  { engine: 'kiddle', family: /(?:^|\.)kiddle\.co$/, path: /^\/(?:s\.php)?$/, params: ['q'] },
  { engine: 'kidrex', family: /(?:^|\.)kidrex\.org$/, path: /^\/results\/?$/, params: ['q'] },
  { engine: 'kidzsearch', family: /(?:^|\.)kidzsearch\.com$/, path: /^\/kzsearch(?:lmt)?\.php$/, params: ['q'] },
  { engine: 'kidtopia', family: /(?:^|\.)kidtopia\.info$/, path: /^\/(?:searchresults\.html)?$/, params: ['q'] },
  { engine: 'swiggle', family: /(?:^|\.)swiggle\.org\.uk$/, path: /^\//, params: ['q'] },
  { engine: 'brave', family: /(?:^|\.)brave\.com$/, host: /^search\.brave\.com$/, path: /^\/(?:search|images|videos|news)$/, params: ['q'] },
  { engine: 'startpage', family: /(?:^|\.)startpage\.com$/, path: /^\/(?:do|sp)\/d?search$/, params: ['query', 'q'] },
  { engine: 'qwant', family: /(?:^|\.)qwant\.com$/, host: /^(?:www\.)?qwant\.com$/, path: /^\/$/, params: ['q'] },
  { engine: 'yandex', family: /(?:^|\.)yandex\.(?:com|ru|ua|by|kz|com\.tr)$/, path: /^\/(?:images\/)?search\/?$/, params: ['text'] },
  { engine: 'ask', family: /(?:^|\.)ask\.com$/, host: /^(?:www\.)?ask\.com$/, path: /^\/web$/, params: ['q'] },
  { engine: 'aol', family: /(?:^|\.)aol\.com$/, host: /^search\.aol\.com$/, path: /^\/aol\/search$/, params: ['q'] },
];

/**
 * The generic rule, for a site's own search box on hosts no engine claims: `q`, `query` or `search`, on
 * the site root or a path with "search" in it. WordPress's `?s=` is left out: `s` is used as widely
 * for share codes, sorting and sessions, and a "search term" the pupil never typed is worse in a
 * safeguarding record than a missed search on a small site.
 */
const genericParams = ['q', 'query', 'search'] as const;
const genericPath = /^\/$|search/;
/** Paths of machine endpoints that take a `q` too: suggestions, autocomplete, JSON/XML APIs. */
const apiPath =
  /(?:^|[/._-])(?:api|apis|ajax|xhr|rpc|rest|graphql|json|xml|suggest\w*|autocomplete\w*|autosuggest\w*|complete|completion|typeahead|ac|v\d+|wp-json)(?:$|[/._-])/;
const apiHost = /^(?:api|apis|suggest\w*|autocomplete|ac|clients\d*|cdn)[.-]/;
/** Parameters only machine requests carry. */
const apiParams = new Set(['callback', 'jsonp', 'api_key', 'apikey', 'key', 'access_token', 'token', 'format', 'output', 'alt']);
const anyLetter = /\p{L}/u;

/** Every parameter name some rule reads; `mayBeSearch` must agree with this list. */
const searchParamNames: readonly string[] = [...new Set([...engines.flatMap((engine) => engine.params), ...genericParams])];

/**
 * The search a URL carries, or null. `host` is already lower-case with no port; `rest` is the path and
 * query as logged ("/search?q=..."), and may still start with the port (":443/search?q=...").
 */
export function extractSearch(host: string, rest: string): ExtractedSearch | null {
  const question = rest.indexOf('?');
  if (question === -1) return null;
  const bareHost = host.endsWith('.') ? host.slice(0, -1) : host;
  const path = pathOf(rest, question);
  const hash = rest.indexOf('#', question);
  const query = rest.slice(question + 1, hash === -1 ? rest.length : hash);

  for (const engine of engines) {
    if (!engine.family.test(bareHost)) continue;
    if (engine.host && !engine.host.test(bareHost)) return null;
    if (!engine.path.test(path)) return null;
    for (const name of engine.params) {
      const term = termOf(query, name);
      if (term) return { engine: engine.engine, term };
    }
    return null;
  }

  if (!genericPath.test(path) || apiPath.test(path) || apiHost.test(bareHost)) return null;
  const pairs = query.split('&');
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (apiParams.has(equals === -1 ? pair : pair.slice(0, equals))) return null;
  }
  for (const name of genericParams) {
    const term = termOf(query, name);
    if (!term) continue;
    // A redirector's target or a number (page, id) is not something a person typed into a search box.
    if (term.length < 2 || !anyLetter.test(term) || /^(?:[a-z][a-z0-9+.-]*:\/\/|www\.)/i.test(term)) return null;
    return { engine: bareHost.startsWith('www.') ? bareHost.slice(4) : bareHost, term };
  }
  return null;
}

/** The lower-case path of `rest` (before `?`), without a leading port; "/" when empty. */
function pathOf(rest: string, question: number): string {
  let start = 0;
  if (rest.charCodeAt(0) === 58) {
    start = 1;
    while (start < question && rest.charCodeAt(start) !== 47) start += 1;
  }
  const path = rest.slice(start, question);
  return path === '' ? '/' : path.toLowerCase();
}

/** The decoded, cleaned value of the first `name` parameter with a non-empty term, or null. */
function termOf(query: string, name: string): string | null {
  const prefix = `${name}=`;
  let at = 0;
  while (at <= query.length) {
    let end = query.indexOf('&', at);
    if (end === -1) end = query.length;
    if (query.startsWith(prefix, at)) {
      const term = cleanTerm(decodeComponent(query.slice(at + prefix.length, Math.min(end, at + prefix.length + maxRawLength))));
      if (term) return term;
    }
    at = end + 1;
  }
  return null;
}

/** Enough encoded text for 200 characters (4 escaped UTF-8 bytes each); a longer value is not decoded. */
const maxRawLength = maxTermLength * 12;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Form decoding that never throws: `+` is a space, and bad escapes or bad UTF-8 are kept or replaced, not fatal. */
export function decodeComponent(raw: string): string {
  const spaced = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return lenientDecode(spaced);
  }
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Percent-decoding byte by byte: a `%` not followed by two hex digits stays literal; invalid UTF-8 becomes U+FFFD. */
function lenientDecode(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length;) {
    const code = text.charCodeAt(i);
    if (code === 37) {
      const high = hexValue(text.charCodeAt(i + 1));
      const low = hexValue(text.charCodeAt(i + 2));
      if (high !== -1 && low !== -1) {
        bytes.push(high * 16 + low);
        i += 3;
        continue;
      }
    }
    const point = text.codePointAt(i)!;
    if (point < 0x80) bytes.push(point);
    else if (point < 0x800) bytes.push(0xc0 | (point >> 6), 0x80 | (point & 63));
    else if (point < 0x10000) bytes.push(0xe0 | (point >> 12), 0x80 | ((point >> 6) & 63), 0x80 | (point & 63));
    else bytes.push(0xf0 | (point >> 18), 0x80 | ((point >> 12) & 63), 0x80 | ((point >> 6) & 63), 0x80 | (point & 63));
    i += point > 0xffff ? 2 : 1;
  }
  return utf8.decode(Uint8Array.from(bytes));
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what is being removed
const controlsAndSpaces = /[\u0000-\u001f\u007f-\u009f\s]+/g;

/** Control characters and runs of white space become one space; trimmed; at most 200 characters (code points). */
function cleanTerm(decoded: string): string {
  let term = decoded.replace(controlsAndSpaces, ' ').trim();
  if (term.length > maxTermLength) {
    const points = Array.from(term);
    if (points.length > maxTermLength) term = points.slice(0, maxTermLength).join('').trimEnd();
  }
  return term;
}

const paramBytes: readonly Uint8Array[] = searchParamNames.map((name) => Uint8Array.from(name, (char) => char.charCodeAt(0)));

/**
 * Cheap pre-test on bytes so the hot path can skip the ~95% of URLs that are not searches without
 * making strings: true when the query string has a parameter some rule reads (`q`, `p`, `query`,
 * `search`, `search_query`, `text`). It is true for every URL `extractSearch` accepts, because
 * `extractSearch` only ever reads those parameters, by the same exact, case-sensitive names.
 */
export function mayBeSearch(bytes: Uint8Array, urlStart: number, urlEnd: number): boolean {
  // (urlStart may be any point before the "?": the pipeline starts at the end of the host.)
  let i = urlStart;
  while (i < urlEnd && bytes[i] !== 63) i += 1;
  // nameStart is -1 while inside a value.
  let nameStart = i + 1;
  for (i += 1; i < urlEnd; i += 1) {
    const code = bytes[i];
    if (code === 38) nameStart = i + 1;
    else if (code === 35) return false;
    else if (code === 61 && nameStart !== -1) {
      if (isSearchParam(bytes, nameStart, i)) return true;
      nameStart = -1;
    }
  }
  return false;
}

function isSearchParam(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  next: for (const name of paramBytes) {
    if (name.length !== length) continue;
    for (let j = 0; j < length; j += 1) if (bytes[start + j] !== name[j]) continue next;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Normalisation for matching
// ---------------------------------------------------------------------------------------------------

const combiningMarks = /\p{M}+/gu;
/** Letters NFD does not take apart. */
const otherLetters: Readonly<Record<string, string>> = { ß: 'ss', ø: 'o', ł: 'l', đ: 'd', ð: 'd', æ: 'ae', œ: 'oe', þ: 'th', ı: 'i' };
const otherLetterPattern = /[ßøłđðæœþı]/g;
const letter = /^\p{L}$/u;
const digit = /^\p{N}$/u;

// Character classes for the scan, by char code (ASCII) — other characters are classified with letter/digit.
const otherChar = 0;
const letterChar = 1;
const digitChar = 2;
/** `@ $ !`: letters in leetspeak, nothing otherwise. */
const leetChar = 3;
/** Apostrophes vanish rather than split a word, so "don't", "don’t" and "dont" are one word. */
const apostropheChar = 4;
/** May stand between the letters of a spaced-out word: "s u i", "s.u.i", "s-u-i", "s_u_i", "s*u*i". */
const gapChar = 5;
const asciiClass = new Uint8Array(128);
const setClass = (chars: string, kind: number) => {
  for (const char of chars) asciiClass[char.charCodeAt(0)] = kind;
};
setClass('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', letterChar);
setClass('0123456789', digitChar);
setClass('@$!', leetChar);
setClass("'`", apostropheChar);
setClass(' \t\n\r\v\f.-_*', gapChar);

function classOf(code: number, char: string): number {
  if (code < 128) return asciiClass[code]!;
  if (code === 0x2018 || code === 0x2019 || code === 0x02bc || code === 0x00b4) return apostropheChar;
  if (code === 0x00b7 || code === 0x2022 || code === 0x00a0 || code === 0x3000 || (code >= 0x2000 && code <= 0x200a)) return gapChar;
  if (letter.test(char)) return letterChar;
  if (digit.test(char)) return digitChar;
  return otherChar;
}

const leet: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };

interface Word {
  text: string;
  /** In characters (code points). */
  length: number;
  hasLetter: boolean;
  /** Whether the gap before it allows joining with the word before (only gap characters, 1–3 of them). */
  joinable: boolean;
}

/** True when every character of the text is ASCII. */
export function isPlainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) > 127) return false;
  return true;
}

/**
 * Normalises text for matching, in this order:
 * 1. Unicode NFKC (full-width "ｓｅｌｆ" → "self", ligatures), lower case, diacritics removed
 *    (NFD, combining marks dropped; ß/ø/ł/æ/œ/þ/ð/đ/ı spelled out), apostrophes removed.
 * 2. Words are runs of letters, digits and `@ $ !`; everything else (punctuation, symbols, emoji) separates.
 * 3. Spacing tricks: 3 or more one-character words separated only by 1–3 spaces, dots, dashes, underscores
 *    or asterisks are joined ("s u i c i d e", "s.u.i.c.i.d.e", "s-u-i-c-i-d-e" → "suicide").
 * 4. Leetspeak, only in words that contain a letter, so "2024" and "year 5" stay numbers (but "y5"
 *    becomes "ys"): 0→o 1→i 3→e 4→a 5→s 7→t @→a $→s, and `!`→i inside a word ("k!ll"; a leading
 *    or trailing `!` is dropped). In words without letters `@ $ !` are dropped.
 * 5. A letter repeated 3 or more times becomes one ("diiiie" → "die", "killl" → "kil"): a simple rule that
 *    catches stretched words, at the cost of missing a stretched double letter. A word that is one letter
 *    repeated ("kkk", "xxxx") becomes that letter three times instead, so such words can still be listed.
 * 6. Words joined by single spaces, with one space added at each end so " phrase " matches whole words
 *    only. Text with no words gives "".
 */
export function normaliseText(text: string): string {
  const folded = isPlainAscii(text)
    ? text
    : text
        .normalize('NFKC')
        .toLowerCase()
        .normalize('NFD')
        .replace(combiningMarks, '')
        .replace(otherLetterPattern, (char) => otherLetters[char] ?? char);

  const words: Word[] = [];
  let word = '';
  let length = 0;
  let hasLetter = false;
  let gap = 0;
  let gapOnlySpacing = true;
  const endWord = () => {
    if (length === 0) return;
    words.push({ text: word, length, hasLetter, joinable: words.length > 0 && gapOnlySpacing && gap >= 1 && gap <= 3 });
    word = '';
    length = 0;
    hasLetter = false;
    gap = 0;
    gapOnlySpacing = true;
  };
  for (let i = 0; i < folded.length;) {
    const code = folded.codePointAt(i)!;
    const size = code > 0xffff ? 2 : 1;
    const char = size === 1 ? folded[i]! : folded.slice(i, i + 2);
    i += size;
    const kind = classOf(code, char);
    if (kind === letterChar || kind === digitChar || kind === leetChar) {
      // Upper-case ASCII is folded here; other text was lower-cased above.
      word += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : char;
      length += 1;
      if (kind === letterChar) hasLetter = true;
    } else if (kind !== apostropheChar) {
      endWord();
      gap += 1;
      if (kind !== gapChar) gapOnlySpacing = false;
    }
  }
  endWord();

  let out = '';
  for (let i = 0; i < words.length;) {
    let end = i;
    if (words[i]!.length === 1) while (end + 1 < words.length && words[end + 1]!.joinable && words[end + 1]!.length === 1) end += 1;
    let plain: string;
    if (end - i >= 2) {
      const run = words.slice(i, end + 1);
      plain = unLeet(
        run.map((part) => part.text).join(''),
        run.some((part) => part.hasLetter),
      );
      i = end + 1;
    } else {
      plain = unLeet(words[i]!.text, words[i]!.hasLetter);
      i += 1;
    }
    if (plain !== '') out += ` ${collapseRepeats(plain)}`;
  }
  return out === '' ? '' : `${out} `;
}

function unLeet(word: string, hasLetter: boolean): string {
  let start = 0;
  let end = word.length;
  if (hasLetter) {
    while (start < end && word.charCodeAt(start) === 33) start += 1;
    while (end > start && word.charCodeAt(end - 1) === 33) end -= 1;
  }
  let out = '';
  let changed = start !== 0 || end !== word.length;
  for (let i = start; i < end; i += 1) {
    const char = word[i]!;
    const code = char.charCodeAt(0);
    if (code === 64 || code === 36 || code === 33) {
      changed = true;
      if (hasLetter) out += leet[char]!;
    } else if (hasLetter && (code === 48 || code === 49 || code === 51 || code === 52 || code === 53 || code === 55)) {
      changed = true;
      out += leet[char]!;
    } else out += char;
  }
  return changed ? out : word;
}

/** Runs of 3+ of one letter become one letter; a word that is a single letter repeated becomes three of it. */
function collapseRepeats(word: string): string {
  let run = 1;
  let has = false;
  for (let i = 1; i < word.length; i += 1) {
    if (word.charCodeAt(i) === word.charCodeAt(i - 1)) {
      run += 1;
      if (run >= 3) has = true;
    } else run = 1;
  }
  if (!has) return word;
  const first = word[0]!;
  if (isLetterText(first) && [...word].every((char) => char === first)) return first.repeat(3);
  let out = '';
  for (let i = 0; i < word.length;) {
    const char = word[i]!;
    let j = i + 1;
    while (j < word.length && word[j] === char) j += 1;
    out += j - i >= 3 && isLetterText(char) ? char : word.slice(i, j);
    i = j;
  }
  return out;
}

function isLetterText(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 128 ? asciiClass[code] === letterChar : letter.test(char);
}
