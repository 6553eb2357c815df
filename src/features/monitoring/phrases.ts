import AhoCorasick from 'modern-ahocorasick';
import { normaliseText } from './search-terms.js';

/**
 * Weighted phrase lists and scoring for monitoring alerts. Pure: no database, no HTTP.
 *
 * The scale (threshold 10 by default; per-group thresholds are passed to scoreText):
 * - weight 15: strong — alerts on its own, and still alerts (one severity lower) beside a softening context;
 * - weight 10: clear — alerts on its own; a softening context takes it under the threshold;
 * - weight 5 (or less): weak — alerts only together with another phrase, or as part of a combination;
 * - weight −2: softening context (help-seeking, support, awareness): lowers the score a little and the severity by one;
 * - weight −10: benign context (a film title, history, science, a game, pets): cancels one strong phrase.
 * Severity 1–5 says how serious a match is on its own: 5 is a risk to life or illegal content, for the
 * DSL at once; 1 is for information only.
 */

export const themes = ['self_harm', 'suicide', 'bullying', 'extremism', 'sexual', 'grooming', 'drugs', 'weapons', 'violence', 'hate'] as const;
export type Theme = (typeof themes)[number];

export const themeNames: Record<Theme, string> = {
  self_harm: 'Self-harm',
  suicide: 'Suicide',
  bullying: 'Bullying',
  extremism: 'Extremism and radicalisation (Prevent)',
  sexual: 'Sexual content',
  grooming: 'Grooming and exploitation',
  drugs: 'Drugs',
  weapons: 'Weapons',
  violence: 'Violence',
  hate: 'Hate and discrimination',
};

/** The alert threshold when a group has none of its own. */
export const defaultThreshold = 10;

/** Parts of a combination are tracked as bits of one number. */
export const maxParts = 8;

export interface PhraseEntry {
  theme: Theme;
  /** One phrase ("kill myself"), or a combination: several parts that must all appear ("how to" + "noose"), written in the editable text form with " + " between parts. */
  parts: readonly string[];
  /** Score added when it matches; negative for context that lowers a score (e.g. "first aid", "homework", "history of", "news"). */
  weight: number;
  /** 1–5: how serious a match is on its own (ignored for negative entries). */
  severity: number;
}

export interface PhraseListError {
  line: number;
  message: string;
}

function isTheme(text: string): text is Theme {
  return (themes as readonly string[]).includes(text);
}

const integer = /^[+-]?\d+$/;

/**
 * Parses the editable text form DSLs see and edit, one entry per line:
 * `theme | weight | severity | phrase` or `theme | weight | severity | part + part`; `#` comments (whole
 * lines) and blank lines allowed. Never throws: entries with errors are left out and each error carries
 * its line number, so a save with errors can be refused with "line 12: unknown theme 'selfharm'".
 */
export function parsePhraseList(text: string): { entries: PhraseEntry[]; errors: PhraseListError[] } {
  const entries: PhraseEntry[] = [];
  const errors: PhraseListError[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const line = index + 1;
    const trimmed = lines[index]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split('|').map((field) => field.trim());
    if (fields.length !== 4) {
      errors.push({ line, message: `expected 'theme | weight | severity | phrase' (4 fields), found ${fields.length}` });
      continue;
    }
    const [themeText, weightText, severityText, phraseText] = fields as [string, string, string, string];
    const lineErrors: string[] = [];

    const themeName = themeText.toLowerCase();
    if (!isTheme(themeName)) {
      const squashed = themeName.replace(/[^a-z]/g, '');
      const near = themes.find((theme) => theme.replace(/_/g, '') === squashed);
      lineErrors.push(`unknown theme '${themeText}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }

    const weight = Number(weightText);
    if (!integer.test(weightText) || weight === 0 || Math.abs(weight) > 100)
      lineErrors.push(`weight must be a whole number from -100 to 100 other than 0, not '${weightText}'`);

    const severity = Number(severityText);
    if (!/^[1-5]$/.test(severityText)) lineErrors.push(`severity must be a whole number from 1 to 5, not '${severityText}'`);

    const parts = phraseText === '' ? [] : phraseText.split('+').map((part) => part.trim().replace(/\s+/g, ' '));
    const normalised: string[] = [];
    if (parts.length === 0) lineErrors.push('the phrase is missing');
    else if (parts.some((part) => part === '')) lineErrors.push(`empty part in '${phraseText}' (use ' + ' only between the parts of a combination)`);
    else if (parts.length > maxParts) lineErrors.push(`a combination can have at most ${maxParts} parts, not ${parts.length}`);
    else
      for (const part of parts) {
        const form = normaliseText(part);
        if (form === '') lineErrors.push(`'${part}' has no letters or digits to match`);
        else if (normalised.includes(form)) lineErrors.push(`'${part}' appears twice in the combination`);
        else normalised.push(form);
      }

    if (lineErrors.length === 0) {
      const key = `${themeName}|${[...normalised].sort().join('+')}`;
      const previous = seen.get(key);
      if (previous !== undefined) lineErrors.push(`the same ${parts.length > 1 ? 'combination' : 'phrase'} for ${themeName} is already on line ${previous}`);
      else seen.set(key, line);
    }

    if (lineErrors.length > 0) for (const message of lineErrors) errors.push({ line, message });
    else entries.push({ theme: themeName as Theme, parts, weight, severity });
  }
  return { entries, errors };
}

/** The text form of entries, one line each, that parsePhraseList reads back to the same entries. */
export function formatPhraseList(entries: readonly PhraseEntry[]): string {
  // "|", "+" and line breaks are punctuation to the matcher, so replacing them keeps what matches.
  const clean = (part: string) =>
    part
      .replace(/[|+\r\n]+/g, ' ')
      .trim()
      .replace(/\s+/g, ' ');
  return entries.map((entry) => `${entry.theme} | ${entry.weight} | ${entry.severity} | ${entry.parts.map(clean).join(' + ')}\n`).join('');
}

/** The text form of one entry's phrase, as shown in ThemeScore.matched. */
export function phraseText(entry: PhraseEntry): string {
  return entry.parts.length === 1 ? entry.parts[0]! : entry.parts.join(' + ');
}

/** Multi-word phrases also match written as one word ("selfharm", "#killmyself", or "k i l l m y s e l f" joined by normaliseText) from this many letters up. */
const minCompactLength = 6;

/**
 * Compiled once per list version: a multi-pattern matcher over normalised text (phrases are normalised
 * with normaliseText too). Matches only at word boundaries ("kill" does not match "skill"), because
 * every pattern is " phrase " with the spaces normaliseText puts around and between words.
 *
 * Aho–Corasick comes from modern-ahocorasick (typed, no dependencies, maintained, widely used) rather
 * than a hand-written automaton: with 5,000 phrases it scores well over the 50,000 terms a second needed.
 */
export class PhraseMatcher {
  /** Number of entries compiled. */
  readonly size: number;
  readonly #entries: readonly PhraseEntry[];
  readonly #automaton: AhoCorasick;
  /** For pattern p, the (entry, part bit) pairs it satisfies: owners[ownerStart[p] … ownerStart[p + 1]). */
  readonly #ownerStart: Int32Array;
  readonly #ownerEntry: Int32Array;
  readonly #ownerBit: Uint32Array;
  /** The bits an entry needs: one per part. */
  readonly #fullMask: Uint32Array;
  /** Scratch for one call: the bits seen so far per entry. scoreText is synchronous, so one set suffices. */
  readonly #seen: Uint32Array;

  constructor(entries: readonly PhraseEntry[]) {
    const kept = entries.filter((entry) => entry.parts.length > 0 && entry.parts.length <= maxParts && entry.parts.every((part) => normaliseText(part) !== ''));
    this.#entries = kept;
    this.size = kept.length;

    const patternIds = new Map<string, number>();
    const owners: Array<Array<[number, number]>> = [];
    const addPattern = (pattern: string, entry: number, bit: number) => {
      let id = patternIds.get(pattern);
      if (id === undefined) {
        id = owners.length;
        patternIds.set(pattern, id);
        owners.push([]);
      }
      const list = owners[id]!;
      if (!list.some(([e, b]) => e === entry && b === bit)) list.push([entry, bit]);
    };

    this.#fullMask = new Uint32Array(kept.length);
    kept.forEach((entry, index) => {
      entry.parts.forEach((part, partIndex) => {
        const bit = 1 << partIndex;
        this.#fullMask[index]! |= bit;
        const form = normaliseText(part);
        addPattern(form, index, bit);
        const compact = form.replaceAll(' ', '');
        if (form.trim().includes(' ') && compact.length >= minCompactLength) addPattern(` ${compact} `, index, bit);
      });
    });

    const patterns = [...patternIds.keys()];
    this.#automaton = new AhoCorasick(patterns);
    this.#ownerStart = new Int32Array(patterns.length + 1);
    let total = 0;
    owners.forEach((list, id) => {
      this.#ownerStart[id] = total;
      total += list.length;
    });
    this.#ownerStart[patterns.length] = total;
    this.#ownerEntry = new Int32Array(total);
    this.#ownerBit = new Uint32Array(total);
    let at = 0;
    for (const list of owners)
      for (const [entry, bit] of list) {
        this.#ownerEntry[at] = entry;
        this.#ownerBit[at] = bit;
        at += 1;
      }
    this.#seen = new Uint32Array(kept.length);
  }

  /** The entries matched in normalised text (a combination only when all its parts appear), in list order. */
  matches(normalised: string): PhraseEntry[] {
    if (this.size === 0 || normalised.length < 3) return [];
    const touched: number[] = [];
    for (const hit of this.#automaton.search(normalised)) {
      const end = this.#ownerStart[hit.patternIndex + 1]!;
      for (let at = this.#ownerStart[hit.patternIndex]!; at < end; at += 1) {
        const entry = this.#ownerEntry[at]!;
        if (this.#seen[entry] === 0) touched.push(entry);
        this.#seen[entry]! |= this.#ownerBit[at]!;
      }
    }
    if (touched.length === 0) return [];
    touched.sort((a, b) => a - b);
    const matched: PhraseEntry[] = [];
    for (const entry of touched) {
      if (this.#seen[entry] === this.#fullMask[entry]) matched.push(this.#entries[entry]!);
      this.#seen[entry] = 0;
    }
    return matched;
  }
}

export interface ThemeScore {
  theme: Theme;
  score: number;
  severity: number;
  /** The phrases (text form) that counted, positive and negative. */
  matched: string[];
}

/**
 * Scores normalised text (from normaliseText): per theme, the sum of the weights of matched entries (a
 * combination counts once when all its parts appear; an entry counts once however often it appears),
 * negatives subtracting. Severity is the highest severity among matched positive entries, lowered by one
 * (not below 1) when a negative context matched. Returns only themes with a positive match and a score
 * of at least `threshold`, most severe first.
 */
export function scoreText(matcher: PhraseMatcher, normalised: string, threshold: number = defaultThreshold): ThemeScore[] {
  const matched = matcher.matches(normalised);
  if (matched.length === 0) return [];
  const byTheme = new Map<Theme, { score: number; severity: number; softened: boolean; matched: string[] }>();
  for (const entry of matched) {
    let tally = byTheme.get(entry.theme);
    if (!tally) {
      tally = { score: 0, severity: 0, softened: false, matched: [] };
      byTheme.set(entry.theme, tally);
    }
    tally.score += entry.weight;
    if (entry.weight > 0) tally.severity = Math.max(tally.severity, entry.severity);
    else tally.softened = true;
    tally.matched.push(phraseText(entry));
  }
  const scores: ThemeScore[] = [];
  for (const [theme, tally] of byTheme) {
    if (tally.severity === 0 || tally.score < threshold) continue;
    scores.push({ theme, score: tally.score, severity: Math.max(1, tally.severity - (tally.softened ? 1 : 0)), matched: tally.matched });
  }
  return scores.sort((a, b) => b.severity - a.severity || b.score - a.score || themes.indexOf(a.theme) - themes.indexOf(b.theme));
}
