import { parse as parseCsv } from 'csv-parse/sync';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { normaliseHost, normaliseUrlEntry } from './normalise.js';

/**
 * Reading web-filter lists (pure: no database, no HTTP): a UT1-style directory (one folder per
 * category holding `domains`, `urls`, optional `expressions`), plain domain lists, hosts files,
 * adblock `||domain^` lists, URL lists and CSV (`domain,category`). Bad lines are counted and sampled
 * with their line numbers, never fatal.
 */

export const listFormats = ['domains', 'hosts', 'adblock', 'csv', 'urls'] as const;
export type ListFormat = (typeof listFormats)[number];

export interface ParsedEntries {
  domains: string[];
  urls: string[];
  expressions: string[];
}

export interface BadLine {
  line: number;
  text: string;
  reason: string;
}

export interface ParseReport {
  format: ListFormat | 'ut1';
  lines: number;
  accepted: number;
  duplicates: number;
  comments: number;
  blank: number;
  bad: number;
  badSamples: BadLine[];
}

const maxSamples = 20;
const maxExpression = 500;

/** UT1 (Université Toulouse 1) folder names → Haven's categories; unknown folders are reported and skipped. */
export const ut1Categories: Record<string, string> = {
  adult: 'pornography',
  porn: 'pornography',
  mixed_adult: 'pornography',
  agressif: 'violence',
  aggressive: 'violence',
  violence: 'violence',
  drogue: 'drugs',
  drugs: 'drugs',
  gambling: 'gambling',
  games: 'games',
  hacking: 'malware',
  malware: 'malware',
  phishing: 'malware',
  warez: 'piracy',
  social_networks: 'social_networking',
  webmail: 'webmail',
  chat: 'chat',
  dating: 'dating',
  audio_video: 'streaming',
  redirector: 'filter_bypass',
  strict_redirector: 'filter_bypass',
  vpn: 'filter_bypass',
  doh: 'filter_bypass',
  sect: 'extremism',
  extremism: 'extremism',
  racism: 'discrimination',
  discrimination: 'discrimination',
  suicide: 'self_harm',
  self_harm: 'self_harm',
};

class Collector {
  readonly domains = new Set<string>();
  readonly urls = new Set<string>();
  readonly expressions = new Set<string>();

  result(): ParsedEntries {
    return { domains: [...this.domains].sort(), urls: [...this.urls].sort(), expressions: [...this.expressions].sort() };
  }
}

function newReport(format: ListFormat | 'ut1'): ParseReport {
  return { format, lines: 0, accepted: 0, duplicates: 0, comments: 0, blank: 0, bad: 0, badSamples: [] };
}

function bad(report: ParseReport, line: number, text: string, reason: string): void {
  report.bad += 1;
  if (report.badSamples.length < maxSamples) report.badSamples.push({ line, text: text.slice(0, 200), reason });
}

function add(report: ParseReport, set: Set<string>, value: string): void {
  if (set.has(value)) report.duplicates += 1;
  else {
    set.add(value);
    report.accepted += 1;
  }
}

/** A domain entry: "*.example.com" and ".example.com" mean example.com; a path means it is a URL. */
function domainEntry(text: string): { value: string } | { reason: string } {
  let entry = text.trim().toLowerCase();
  if (entry.startsWith('*.')) entry = entry.slice(2);
  else if (entry.startsWith('.')) entry = entry.slice(1);
  if (/[/?#]/.test(entry.replace(/^[a-z][a-z0-9+.-]*:\/\//, ''))) return { reason: 'looks like a web address: put it in a URL list' };
  entry = entry.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  if (entry.length > 253) return { reason: 'too long for a host name' };
  const host = normaliseHost(entry);
  return host ? { value: host } : { reason: 'not a valid host name' };
}

function lines(text: string): string[] {
  return (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
}

function isComment(line: string, format: ListFormat): boolean {
  return line.startsWith('#') || line.startsWith('//') || (format === 'adblock' && (line.startsWith('!') || line.startsWith('[')));
}

/** Best guess of a list's format from its first meaningful lines. */
export function detectFormat(text: string): ListFormat {
  const sample = lines(text.slice(0, 20_000))
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('!') && !line.startsWith('//'))
    .slice(0, 50);
  if (sample.length === 0) return 'domains';
  const share = (test: (line: string) => boolean) => sample.filter(test).length / sample.length;
  if (share((line) => line.startsWith('||') || line.startsWith('@@||')) > 0.5) return 'adblock';
  if (share((line) => /^(0\.0\.0\.0|127\.0\.0\.1|::1?|::)\s+\S/.test(line)) > 0.5) return 'hosts';
  if (share((line) => line.includes(',')) > 0.5) return 'csv';
  if (share((line) => /^[^\s/]+\/\S*/.test(line.replace(/^https?:\/\//, ''))) > 0.5) return 'urls';
  return 'domains';
}

/**
 * Parses one list. Entries go to `options.defaultCategory` (CSV rows name their own). Never throws on
 * content: bad lines are counted, sampled and skipped.
 */
export function parseList(
  text: string,
  format: ListFormat,
  options: { defaultCategory?: string } = {},
): { byCategory: Map<string, ParsedEntries>; report: ParseReport } {
  const report = newReport(format);
  const collectors = new Map<string, Collector>();
  const collector = (category: string) => {
    let found = collectors.get(category);
    if (!found) {
      found = new Collector();
      collectors.set(category, found);
    }
    return found;
  };
  const fallback = options.defaultCategory ?? '';
  const all = lines(text);
  // A file ending in a newline has an empty last "line" that is not a line.
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  all.forEach((raw, index) => {
    const number = index + 1;
    report.lines += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1).trim() : raw.trim();
    if (!line) {
      report.blank += 1;
      return;
    }
    if (isComment(line, format)) {
      report.comments += 1;
      return;
    }
    if (line.length > 4000) {
      bad(report, number, line, 'line too long');
      return;
    }
    switch (format) {
      case 'domains': {
        const withoutComment = line.replace(/\s+#.*$/, '');
        if (/\s/.test(withoutComment)) {
          bad(report, number, line, 'more than one entry on the line');
          return;
        }
        const entry = domainEntry(withoutComment);
        if ('value' in entry) add(report, collector(fallback).domains, entry.value);
        else bad(report, number, line, entry.reason);
        return;
      }
      case 'urls': {
        const withoutComment = line.replace(/\s+#.*$/, '');
        if (/\s/.test(withoutComment)) {
          bad(report, number, line, 'more than one entry on the line');
          return;
        }
        const value = normaliseUrlEntry(withoutComment);
        if (value) add(report, value.includes('/') ? collector(fallback).urls : collector(fallback).domains, value);
        else bad(report, number, line, 'not a valid web address');
        return;
      }
      case 'hosts': {
        const parts = line.replace(/#.*$/, '').trim().split(/\s+/);
        if (parts.length < 2) {
          bad(report, number, line, 'a hosts line needs an address and at least one name');
          return;
        }
        for (const name of parts.slice(1)) {
          if (['localhost', 'localhost.localdomain', 'local', 'broadcasthost', 'ip6-localhost', 'ip6-loopback', '0.0.0.0'].includes(name.toLowerCase()))
            continue;
          const entry = domainEntry(name);
          if ('value' in entry) add(report, collector(fallback).domains, entry.value);
          else bad(report, number, line, `${name}: ${entry.reason}`);
        }
        return;
      }
      case 'adblock': {
        if (line.startsWith('@@')) {
          bad(report, number, line, 'exception rules (@@) are not supported: use the group allow list');
          return;
        }
        if (line.includes('##') || line.includes('#@#') || line.includes('#?#')) {
          bad(report, number, line, 'cosmetic (element hiding) rules do not apply to a web filter');
          return;
        }
        const match = /^\|\|([^/^$|*]+)\^?(\$.*)?$/.exec(line);
        if (!match) {
          bad(report, number, line, 'only ||domain^ rules are supported');
          return;
        }
        const entry = domainEntry(match[1]!);
        if ('value' in entry) add(report, collector(fallback).domains, entry.value);
        else bad(report, number, line, entry.reason);
        return;
      }
      case 'csv': {
        let cells: string[];
        try {
          const rows: string[][] = parseCsv(line, { relax_quotes: true });
          cells = rows[0] ?? [];
        } catch (error) {
          bad(report, number, line, `not a CSV row (${error instanceof Error ? error.message : 'unreadable'})`);
          return;
        }
        const [first = '', second = ''] = cells.map((cell) => cell.trim());
        if (number === 1 && /^(domain|host|site|url)$/i.test(first)) {
          report.comments += 1; // the header row
          return;
        }
        const category = second.toLowerCase() || fallback;
        if (!category) {
          bad(report, number, line, 'no category: give one in the second column');
          return;
        }
        const isUrl = /[/?#]/.test(first.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''));
        if (isUrl) {
          const value = normaliseUrlEntry(first);
          if (value) add(report, collector(category).urls, value);
          else bad(report, number, line, 'not a valid web address');
        } else {
          const entry = domainEntry(first);
          if ('value' in entry) add(report, collector(category).domains, entry.value);
          else bad(report, number, line, entry.reason);
        }
        return;
      }
    }
  });
  return { byCategory: new Map([...collectors].map(([category, found]) => [category, found.result()])), report };
}

function readMaybeGzip(path: string): string | null {
  if (existsSync(path)) return readFileSync(path, 'utf8');
  if (existsSync(`${path}.gz`)) return gunzipSync(readFileSync(`${path}.gz`)).toString('utf8');
  return null;
}

/**
 * A UT1-style directory: each folder is a category holding `domains`, `urls` and optionally
 * `expressions` (plain or .gz). Folders are mapped to Haven's categories (ut1Categories, or the
 * folder name itself when it is one of Haven's codes); unknown folders are listed as skipped.
 */
export function parseUt1Directory(
  dir: string,
  knownCategories: ReadonlySet<string>,
): { byCategory: Map<string, ParsedEntries>; reports: Map<string, ParseReport>; skipped: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  const byCategory = new Map<string, ParsedEntries>();
  const reports = new Map<string, ParseReport>();
  const skipped: string[] = [];
  for (const folder of readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()) {
    const category = knownCategories.has(folder) ? folder : ut1Categories[folder];
    if (!category || !knownCategories.has(category)) {
      skipped.push(folder);
      continue;
    }
    const domainsText = readMaybeGzip(join(dir, folder, 'domains'));
    const urlsText = readMaybeGzip(join(dir, folder, 'urls'));
    const expressionsText = readMaybeGzip(join(dir, folder, 'expressions'));
    if (domainsText === null && urlsText === null && expressionsText === null) {
      skipped.push(folder);
      continue;
    }
    const report = newReport('ut1');
    const merged = {
      domains: new Set(byCategory.get(category)?.domains),
      urls: new Set(byCategory.get(category)?.urls),
      expressions: new Set(byCategory.get(category)?.expressions),
    };
    const absorb = (text: string | null, format: ListFormat) => {
      if (text === null) return;
      const parsed = parseList(text, format, { defaultCategory: category });
      const entries = parsed.byCategory.get(category);
      for (const domain of entries?.domains ?? []) merged.domains.add(domain);
      for (const url of entries?.urls ?? []) merged.urls.add(url);
      for (const key of ['lines', 'accepted', 'duplicates', 'comments', 'blank', 'bad'] as const) report[key] += parsed.report[key];
      for (const sample of parsed.report.badSamples)
        if (report.badSamples.length < maxSamples) report.badSamples.push({ ...sample, text: `${format}:${sample.line}: ${sample.text}` });
    };
    absorb(domainsText, 'domains');
    absorb(urlsText, 'urls');
    if (expressionsText !== null) {
      lines(expressionsText).forEach((raw, index) => {
        const line = raw.trim();
        if (!line || line.startsWith('#')) return;
        report.lines += 1;
        if (line.length > maxExpression) return bad(report, index + 1, line, `expression longer than ${maxExpression} characters`);
        try {
          new RegExp(line);
          add(report, merged.expressions, line);
        } catch {
          bad(report, index + 1, line, 'not a valid regular expression');
        }
      });
    }
    byCategory.set(category, { domains: [...merged.domains].sort(), urls: [...merged.urls].sort(), expressions: [...merged.expressions].sort() });
    reports.set(`${folder} → ${category}`, report);
  }
  return { byCategory, reports, skipped };
}

/** What changed between two versions of a list. */
export function diffEntries(previous: ParsedEntries | { domains: string[]; urls: string[] }, next: ParsedEntries | { domains: string[]; urls: string[] }) {
  const before = { domains: new Set(previous.domains), urls: new Set(previous.urls) };
  const after = { domains: new Set(next.domains), urls: new Set(next.urls) };
  const added = next.domains.filter((entry) => !before.domains.has(entry));
  const removed = previous.domains.filter((entry) => !after.domains.has(entry));
  return {
    addedDomains: added.length,
    removedDomains: removed.length,
    addedUrls: next.urls.filter((entry) => !before.urls.has(entry)).length,
    removedUrls: previous.urls.filter((entry) => !after.urls.has(entry)).length,
    sampleAdded: added.slice(0, 10),
    sampleRemoved: removed.slice(0, 10),
  };
}
