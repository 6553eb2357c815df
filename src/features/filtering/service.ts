import { createHmac } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, resolve as resolvePath, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import { serialise } from '../../db/locks.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { deriveKey, sha256Hex } from '../../platform/crypto.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import type { NotificationService } from '../../platform/notifications/service.js';
import type { SchoolService } from '../../platform/schools/service.js';
import type { UserService } from '../../platform/users/service.js';
import type { PeopleService } from '../people/service.js';
import { catalogue, defaultPolicies, demoEarlyYearsAllowList, demoSamples, illegalCategories } from './catalogue.js';
import { compileSnapshot, writeSnapshotFile } from './compile.js';
import { FilterEngine, loadSnapshot, readBlockToken, type Decision, type Who } from './engine.js';
import type { FilterModel, TimeWindow } from './model.js';
import { exportFor as exportForModel, type ExportFormat } from './dns-exports.js';
import { detectFormat, listFormats, parseList, parseUt1Directory, type ListFormat } from './list-import.js';
import { normaliseHost, normaliseUrlEntry } from './normalise.js';
import * as repository from './repository.js';
import { snapshotFormat } from './snapshot.js';

export interface ListEntries {
  domains: string[];
  urls: string[];
  /** UT1 `expressions`: the engine's bounded regular-expression slow path. */
  expressions?: string[];
}

export const requestStatuses = ['pending', 'approved', 'declined', 'withdrawn', 'expired'] as const;
export type RequestStatus = (typeof requestStatuses)[number];

const contentCategories = new Set(catalogue.filter((category) => category.group !== 'operational').map((category) => category.code));

/** One GET through an HTTP proxy: the status code, or 0 when nothing came back within 5 s. */
function probeThroughProxy(proxy: URL, url: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const target = new URL(url);
    const request = httpRequest({
      host: proxy.hostname,
      port: Number(proxy.port || 3128),
      path: url,
      method: 'GET',
      headers: { host: target.host },
      agent: false,
    });
    request.on('response', (response) => {
      response.resume();
      resolveStatus(response.statusCode ?? 0);
    });
    request.on('error', () => resolveStatus(0));
    request.setTimeout(5000, () => request.destroy());
    request.end();
  });
}

/** A policy group's label: "key_stage:KS2" → "Key stage 2" (the policy's own name when there is one). */
export function groupLabel(code: string, names: ReadonlyMap<string, string>): string {
  return names.get(code) ?? code;
}

/** Parses a list entry typed by a person: a domain or a URL prefix, normalised; null when neither. */
export function parseEntry(text: string): { kind: 'domain' | 'url'; value: string } | null {
  const trimmed = text.trim().replace(/^\*\./, '').replace(/^\./, '');
  if (!trimmed || trimmed.length > 2000) return null;
  const withoutScheme = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (/[/?#]/.test(withoutScheme)) {
    const value = normaliseUrlEntry(trimmed);
    if (!value) return null;
    return value.includes('/') ? { kind: 'url', value } : { kind: 'domain', value };
  }
  const host = normaliseHost(withoutScheme);
  return host ? { kind: 'domain', value: host } : null;
}

/**
 * Filtering: categories, lists and their versions, group policies, address ranges, change requests
 * and exceptions, the change log; and the bridge to the engine — it builds the FilterModel from the
 * database, compiles the snapshot file the Squid helpers read, and answers decisions in process.
 */
export function createFilteringService(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  people: PeopleService;
  users: UserService;
  schools: SchoolService;
  notifications: NotificationService;
  dataDir: string;
  secret: string;
  publicUrl: string;
}) {
  const { handle, clock, audit, people, users, schools, notifications } = deps;
  const { db } = handle;
  const tokenRoot = deriveKey(deps.secret, 'filter-block-token');
  const engines = new Map<string, FilterEngine>();
  /** The model each snapshot was compiled from (for exports). */
  const models = new Map<string, FilterModel>();
  const listDir = join(deps.dataDir, 'filter', 'lists');

  const blockTokenKey = (schoolId: string) => createHmac('sha256', tokenRoot).update(schoolId).digest('hex');
  const snapshotPath = (schoolId: string) => join(deps.dataDir, 'filter', `${schoolId}.snapshot`);

  /** Where list files may be imported from on the server (a technician cannot read any other file). */
  const incomingDir = resolvePath(deps.dataDir, 'lists-incoming');

  type ImportSource = { type: 'upload'; text: string; fileName?: string } | { type: 'path'; path: string } | { type: 'url'; url: string };

  async function readSource(source: ImportSource): Promise<{ text?: string; directory?: string; label: string }> {
    if (source.type === 'upload') return { text: source.text, label: source.fileName ?? 'uploaded file' };
    if (source.type === 'path') {
      const full = resolvePath(incomingDir, source.path);
      if (!full.startsWith(`${incomingDir}${sep}`) && full !== incomingDir)
        throw invalid(`Lists are imported from ${incomingDir}`, [{ field: 'path', message: `Give a path inside ${incomingDir}` }]);
      if (!existsSync(full)) throw invalid(`${full} does not exist`, [{ field: 'path', message: `${full} does not exist` }]);
      if (statSync(full).isDirectory()) return { directory: full, label: source.path };
      const raw = readFileSync(full);
      return { text: full.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8'), label: source.path };
    }
    let url: URL;
    try {
      url = new URL(source.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw invalid('Enter an http:// or https:// address', [{ field: 'url', message: 'Enter an http:// or https:// address' }]);
    }
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    } catch (error) {
      throw invalid(`Could not fetch ${url.href}: ${error instanceof Error ? error.message : String(error)}`, [
        { field: 'url', message: `Could not fetch the list from ${url.host}` },
      ]);
    }
    if (!response.ok) throw invalid(`${url.href} answered ${response.status}`, [{ field: 'url', message: `The server answered ${response.status}` }]);
    const body = Buffer.from(await response.arrayBuffer());
    const gzipped = body[0] === 0x1f && body[1] === 0x8b;
    return { text: (gzipped ? gunzipSync(body) : body).toString('utf8'), label: url.href };
  }

  /** List contents live in content-addressed, compressed files: identical lists are stored once. */
  function writeEntries(entries: ListEntries): string {
    const body = Buffer.from(JSON.stringify(entries));
    const sha = sha256Hex(body);
    const path = join(listDir, `${sha}.json.gz`);
    if (!existsSync(path)) {
      mkdirSync(listDir, { recursive: true });
      writeFileSync(`${path}.tmp`, gzipSync(body));
      renameSync(`${path}.tmp`, path);
    }
    return sha;
  }

  function readEntries(sha: string): ListEntries {
    return JSON.parse(gunzipSync(readFileSync(join(listDir, `${sha}.json.gz`))).toString('utf8')) as ListEntries;
  }

  const actorName = (context: AuditContext) => context.actor?.displayName ?? 'Haven';

  /** Appends to the school's filtering change log (in the caller's transaction). */
  async function log(trx: DbOrTrx, context: AuditContext, action: string, summary: string, reason: string | null, details: Record<string, unknown> = {}) {
    await serialise(trx, handle.dialect, `filter-log:${context.schoolId}`);
    const seq = (await repository.lastLogSeq(trx, context.schoolId)) + 1;
    await repository.insertLog(trx, {
      school_id: context.schoolId,
      seq,
      at: isoNow(clock),
      actor: actorName(context),
      action,
      summary,
      reason,
      details: JSON.stringify(details),
    });
  }

  async function ensureDefaults(schoolId: string): Promise<void> {
    if ((await repository.categories(db, schoolId)).length > 0) return;
    await db.transaction().execute(async (trx) => {
      await serialise(trx, handle.dialect, `filter-defaults:${schoolId}`);
      if ((await repository.categories(trx, schoolId)).length > 0) return;
      await repository.insertCategories(
        trx,
        catalogue.map((category, index) => ({
          school_id: schoolId,
          code: category.code,
          name: category.name,
          description: category.description,
          category_group: category.group,
          sort: index,
        })),
      );
      const now = isoNow(clock);
      for (const policy of defaultPolicies) {
        await repository.insertPolicy(trx, {
          school_id: schoolId,
          group_code: policy.group,
          name: policy.name,
          blocked_categories: JSON.stringify(policy.blocked),
          allow_list_only: policy.allowListOnly ? 1 : 0,
          safe_search: policy.safeSearch ? 1 : 0,
          allow_list_id: null,
          deny_list_id: null,
          time_windows: '[]',
          updated_at: now,
        });
      }
      await log(trx, { schoolId }, 'policy.defaults', 'Default categories and group policies set up', null);
    });
  }

  /** Creates a list with its first version (in the caller's transaction). */
  async function createListIn(
    trx: DbOrTrx,
    context: AuditContext,
    input: { name: string; kind: 'category' | 'allow' | 'deny'; category: string | null; sourceType: string; source: string | null; format: string },
    entries: ListEntries,
  ): Promise<string> {
    const id = newId();
    const now = isoNow(clock);
    await repository.insertList(trx, {
      school_id: context.schoolId,
      id,
      name: input.name,
      kind: input.kind,
      category: input.category,
      source_type: input.sourceType,
      source: input.source,
      format: input.format,
      schedule_hours: null,
      current_version: 1,
      next_import_at: null,
      created_at: now,
      retired_at: null,
    });
    await repository.insertListVersion(trx, {
      school_id: context.schoolId,
      list_id: id,
      version: 1,
      content_sha256: writeEntries(entries),
      domains: entries.domains.length,
      urls: entries.urls.length,
      report: '{}',
      diff: JSON.stringify({ addedDomains: entries.domains.length, removedDomains: 0, addedUrls: entries.urls.length, removedUrls: 0 }),
      created_at: now,
      created_by: context.actor?.kind === 'user' ? context.actor.userId : null,
    });
    return id;
  }

  /** A new version of a list (in the caller's transaction); returns the diff against the one before. */
  async function newVersionIn(trx: DbOrTrx, context: AuditContext, listId: string, entries: ListEntries, report: Record<string, unknown> = {}) {
    const list = await repository.findList(trx, context.schoolId, listId);
    if (!list) throw notFound('list');
    const previous = await repository.listVersion(trx, context.schoolId, listId, list.current_version);
    const before = previous ? readEntries(previous.content_sha256) : { domains: [], urls: [] };
    const beforeDomains = new Set(before.domains);
    const beforeUrls = new Set(before.urls);
    const afterDomains = new Set(entries.domains);
    const afterUrls = new Set(entries.urls);
    const diff = {
      addedDomains: entries.domains.filter((entry) => !beforeDomains.has(entry)).length,
      removedDomains: before.domains.filter((entry) => !afterDomains.has(entry)).length,
      addedUrls: entries.urls.filter((entry) => !beforeUrls.has(entry)).length,
      removedUrls: before.urls.filter((entry) => !afterUrls.has(entry)).length,
    };
    const version = list.current_version + 1;
    await repository.insertListVersion(trx, {
      school_id: context.schoolId,
      list_id: listId,
      version,
      content_sha256: writeEntries(entries),
      domains: entries.domains.length,
      urls: entries.urls.length,
      report: JSON.stringify(report),
      diff: JSON.stringify(diff),
      created_at: isoNow(clock),
      created_by: context.actor?.kind === 'user' ? context.actor.userId : null,
    });
    await repository.updateList(trx, context.schoolId, listId, { current_version: version });
    return { version, diff };
  }

  async function currentEntries(schoolId: string, listId: string, trx: DbOrTrx = db): Promise<ListEntries> {
    const list = await repository.findList(trx, schoolId, listId);
    if (!list) throw notFound('list');
    const version = await repository.listVersion(trx, schoolId, listId, list.current_version);
    return version ? readEntries(version.content_sha256) : { domains: [], urls: [] };
  }

  /** Which policy groups a cleared person belongs to (filtering sees Haven groups); uncleared → "uncleared". */
  async function groupsOfPeople(schoolId: string, personIds: string[]): Promise<Map<string, string[]>> {
    const [clearance, persons] = await Promise.all([people.clearance(schoolId, personIds), people.getMany(schoolId, personIds)]);
    const result = new Map<string, string[]>();
    for (const id of personIds) {
      const cleared = clearance.get(id);
      const person = persons.get(id);
      if (!cleared?.cleared || !person) {
        result.set(id, ['uncleared']);
        continue;
      }
      const groups = [`${cleared.groupKind}:${cleared.groupCode}`];
      if (person.kind === 'pupil') {
        if (person.yearGroup !== null) groups.push(`year_group:${person.yearGroup}`);
        if (person.className) groups.push(`class:${person.className}`);
      }
      result.set(id, groups);
    }
    return result;
  }

  async function buildModel(schoolId: string): Promise<FilterModel> {
    await ensureDefaults(schoolId);
    const now = isoNow(clock);
    const [school, categoryRows, listRows, policyRows, networkRows, exceptionRows, usernames] = await Promise.all([
      schools.get(schoolId),
      repository.categories(db, schoolId),
      repository.lists(db, schoolId),
      repository.policies(db, schoolId),
      repository.networks(db, schoolId),
      repository.liveExceptions(db, schoolId, now),
      repository.peopleWithUsernames(db, schoolId),
    ]);
    const lists = [];
    for (const list of listRows) {
      const entries = await currentEntries(schoolId, list.id);
      lists.push({
        id: list.id,
        kind: list.kind as 'category' | 'allow' | 'deny',
        category: list.category ?? undefined,
        domains: entries.domains,
        urls: entries.urls,
        expressions: entries.expressions ?? [],
      });
    }
    const groupsByPerson = await groupsOfPeople(
      schoolId,
      usernames.map((row) => row.id),
    );
    const version = sha256Hex(
      JSON.stringify({
        lists: listRows.map((list) => [list.id, list.current_version]),
        policies: policyRows,
        networks: networkRows,
        exceptions: exceptionRows.map((row) => [row.id, row.status, row.starts_at, row.ends_at]),
        users: usernames.map((row) => [row.network_username, groupsByPerson.get(row.id)]),
      }),
    ).slice(0, 12);
    return {
      version,
      timeZone: school.timeZone,
      categories: categoryRows.map((row) => ({ code: row.code, name: row.name, illegal: illegalCategories.includes(row.code) })),
      lists,
      policies: policyRows.map((row) => ({
        group: row.group_code,
        name: row.name,
        blockedCategories: JSON.parse(row.blocked_categories) as string[],
        allowListOnly: row.allow_list_only === 1,
        safeSearch: row.safe_search === 1,
        allowListId: row.allow_list_id ?? undefined,
        denyListId: row.deny_list_id ?? undefined,
        timeWindows: JSON.parse(row.time_windows) as TimeWindow[],
      })),
      exceptions: exceptionRows.map((row) => ({
        id: row.reference,
        group: row.group_code,
        domain: row.target_type === 'domain' ? row.target : undefined,
        url: row.target_type === 'url' ? row.target : undefined,
        category: row.target_type === 'category' ? row.target : undefined,
        startsAt: Date.parse(row.starts_at),
        endsAt: Date.parse(row.ends_at),
      })),
      networks: networkRows.map((row) => ({ cidr: row.cidr, groups: [row.group_code], label: row.label })),
      users: usernames.map((row) => ({ username: row.network_username!, groups: groupsByPerson.get(row.id) ?? ['uncleared'] })),
      defaultGroups: ['uncleared'],
      blockPageUrl: `${deps.publicUrl}/blocked/${schoolId}`,
    };
  }

  /** Compiles the school's snapshot, writes it where the helpers read it, and swaps the in-process engine. */
  async function compile(schoolId: string): Promise<{ version: string; path: string; domains: number; urls: number }> {
    const model = await buildModel(schoolId);
    models.set(schoolId, model);
    const compiled = compileSnapshot(model, { blockTokenKey: blockTokenKey(schoolId), compiledAt: isoNow(clock) });
    const path = snapshotPath(schoolId);
    mkdirSync(join(deps.dataDir, 'filter'), { recursive: true });
    writeSnapshotFile(path, compiled.bytes);
    const snapshot = loadSnapshot(compiled.bytes);
    const engine = engines.get(schoolId);
    if (engine) engine.swap(snapshot);
    else engines.set(schoolId, new FilterEngine(snapshot));
    return { version: model.version, path, domains: compiled.header.counts.domains, urls: compiled.header.counts.urls };
  }

  /**
   * At start: recompiles a school's snapshot file when it is in an older format than this version's
   * engine reads, so helpers (re)started after an upgrade find one they can load.
   */
  async function refreshOutdatedSnapshot(schoolId: string): Promise<boolean> {
    const path = snapshotPath(schoolId);
    if (!existsSync(path)) return false;
    const prefix = Buffer.alloc(64);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, prefix, 0, prefix.length, 0);
    } finally {
      closeSync(fd);
    }
    if (prefix.toString('latin1').includes(`{"format":${snapshotFormat},`)) return false;
    await compile(schoolId);
    return true;
  }

  async function engineFor(schoolId: string): Promise<FilterEngine> {
    if (!engines.has(schoolId)) await compile(schoolId);
    return engines.get(schoolId)!;
  }

  async function policyNames(schoolId: string, trx: DbOrTrx = db): Promise<Map<string, string>> {
    return new Map((await repository.policies(trx, schoolId)).map((row) => [row.group_code, row.name]));
  }

  /** The policy's local allow or deny list, made when first needed (in the caller's transaction). */
  async function localList(trx: DbOrTrx, context: AuditContext, groupCode: string, kind: 'allow' | 'deny'): Promise<string> {
    const policy = (await repository.policies(trx, context.schoolId)).find((row) => row.group_code === groupCode);
    if (!policy) throw notFound('policy');
    const existing = kind === 'allow' ? policy.allow_list_id : policy.deny_list_id;
    if (existing) return existing;
    const id = await createListIn(
      trx,
      context,
      { name: `${policy.name}: local ${kind} list`, kind, category: null, sourceType: 'local', source: null, format: 'domains' },
      { domains: [], urls: [] },
    );
    await repository.updatePolicy(trx, context.schoolId, groupCode, kind === 'allow' ? { allow_list_id: id } : { deny_list_id: id });
    return id;
  }

  function validateReason(reason: string, field = 'reason') {
    const text = reason.trim();
    if (!text || text.length > 2000)
      throw invalid('Give the reason for the change', [{ field, message: 'Give the reason for the change (it goes in the change log)' }]);
    return text;
  }

  return {
    ensureDefaults,
    buildModel,
    compile,
    refreshOutdatedSnapshot,
    engineFor,
    snapshotPath,
    readEntries,
    currentEntries,

    /**
     * Imports a list — a file (domains, hosts, adblock, URLs or CSV), a UT1-style directory, or an
     * address — as a new version of each category's list, with a report of bad lines and a diff
     * against the version before. Optionally re-run every few hours from a path or address.
     */
    async importList(
      context: AuditContext,
      input: { name: string; category: string; format: string; source: ImportSource; scheduleHours?: number | null; listId?: string },
    ): Promise<{
      lists: Array<{ id: string; name: string; category: string; version: number; domains: number; urls: number; bad: number }>;
      skipped: string[];
    }> {
      await ensureDefaults(context.schoolId);
      const name = input.name.trim().slice(0, 100);
      if (!name) throw invalid('Name the list', [{ field: 'name', message: 'Name the list, for example the provider' }]);
      const known = new Set((await repository.categories(db, context.schoolId)).map((row) => row.code));
      const format = input.format;
      if (format !== 'auto' && format !== 'ut1' && !(listFormats as readonly string[]).includes(format))
        throw invalid('Choose the format', [{ field: 'format', message: 'Choose the format' }]);
      if (format !== 'csv' && format !== 'ut1' && !known.has(input.category))
        throw invalid('Choose the category', [{ field: 'category', message: 'Choose the category these sites belong to' }]);
      if (
        input.scheduleHours !== undefined &&
        input.scheduleHours !== null &&
        (!Number.isInteger(input.scheduleHours) || input.scheduleHours < 1 || input.scheduleHours > 24 * 31)
      )
        throw invalid('Re-import every 1 to 744 hours, or never', [{ field: 'scheduleHours', message: 'Re-import every 1 to 744 hours, or leave blank' }]);
      if (input.scheduleHours && input.source.type === 'upload')
        throw invalid('Only lists from a path or an address can be re-imported on a schedule', [
          { field: 'scheduleHours', message: 'Upload lists cannot be re-imported: give a path or an address' },
        ]);
      const read = await readSource(input.source);
      const results = new Map<string, { entries: ListEntries; report: Record<string, unknown> }>();
      const skipped: string[] = [];
      // Lists that carry several categories (CSV, directories) make one list per category, "<name>: <category>".
      let perCategory = Boolean(read.directory);
      if (read.directory) {
        const parsed = parseUt1Directory(read.directory, known);
        for (const [label, report] of parsed.reports) {
          const category = label.split(' → ')[1]!;
          const entries = parsed.byCategory.get(category)!;
          results.set(category, {
            entries: { domains: entries.domains, urls: entries.urls, expressions: entries.expressions },
            report: { ...report, folder: label },
          });
        }
        skipped.push(...parsed.skipped.map((folder) => `folder ${folder}`));
      } else {
        const actual = format === 'auto' || format === 'ut1' ? detectFormat(read.text ?? '') : (format as ListFormat);
        perCategory = actual === 'csv';
        const parsed = parseList(read.text ?? '', actual, { defaultCategory: input.category });
        for (const [category, entries] of parsed.byCategory) {
          if (!known.has(category)) {
            skipped.push(`category ${category} (${entries.domains.length + entries.urls.length} entries)`);
            continue;
          }
          results.set(category, { entries: { domains: entries.domains, urls: entries.urls }, report: { ...parsed.report } });
        }
        if (results.size === 0 && parsed.byCategory.size === 0)
          results.set(input.category, { entries: { domains: [], urls: [] }, report: { ...parsed.report } });
      }
      if (input.listId) {
        // A re-import keeps to the list's own category.
        const list = await repository.findList(db, context.schoolId, input.listId);
        if (!list || list.kind !== 'category') throw notFound('list');
        for (const category of [...results.keys()]) if (category !== list.category) results.delete(category);
        if (!results.has(list.category ?? ''))
          results.set(list.category ?? '', { entries: { domains: [], urls: [] }, report: { note: 'no entries for this category' } });
      }
      const existing = await repository.lists(db, context.schoolId);
      const now = isoNow(clock);
      const outcome: Array<{ id: string; name: string; category: string; version: number; domains: number; urls: number; bad: number }> = [];
      await db.transaction().execute(async (trx) => {
        for (const [category, { entries, report }] of results) {
          const listName = perCategory ? `${name}: ${category}` : name;
          const found = input.listId
            ? existing.find((row) => row.id === input.listId)
            : existing.find((row) => row.kind === 'category' && row.category === category && row.name === listName);
          const source = input.source.type === 'upload' ? (input.source.fileName ?? null) : input.source.type === 'path' ? input.source.path : input.source.url;
          let id: string;
          let version: number;
          let diff: Record<string, number>;
          if (found) {
            const next = await newVersionIn(trx, context, found.id, entries, report);
            id = found.id;
            version = next.version;
            diff = next.diff;
          } else {
            id = await createListIn(trx, context, { name: listName, kind: 'category', category, sourceType: input.source.type, source, format }, entries);
            version = 1;
            diff = { addedDomains: entries.domains.length, removedDomains: 0, addedUrls: entries.urls.length, removedUrls: 0 };
            await repository.updateListVersionReport(trx, context.schoolId, id, 1, JSON.stringify(report));
          }
          const schedule = input.scheduleHours ?? found?.schedule_hours ?? null;
          await repository.updateList(trx, context.schoolId, id, {
            source_type: input.source.type,
            source,
            format,
            schedule_hours: schedule,
            next_import_at: schedule ? new Date(clock().getTime() + schedule * 3_600_000).toISOString() : null,
          });
          const badCount = Number((report as { bad?: number }).bad ?? 0);
          await log(
            trx,
            context,
            'list.imported',
            `${listName} version ${version}: ${entries.domains.length} domains, ${entries.urls.length} web addresses (+${diff.addedDomains! + diff.addedUrls!}, −${diff.removedDomains! + diff.removedUrls!}), ${badCount} bad lines`,
            null,
            { listId: id, source: read.label, at: now },
          );
          outcome.push({ id, name: listName, category, version, domains: entries.domains.length, urls: entries.urls.length, bad: badCount });
        }
        await audit.record(context, 'filtering.list_imported', null, { lists: outcome.length, source: input.source.type }, trx);
      });
      await compile(context.schoolId);
      return { lists: outcome, skipped };
    },

    /** The jobs scheduler: re-imports lists whose schedule is due, from their path or address. */
    async runScheduledImports(schoolId: string): Promise<number> {
      const due = (await repository.lists(db, schoolId)).filter(
        (list) => list.schedule_hours && list.next_import_at && list.next_import_at <= isoNow(clock) && list.source,
      );
      let done = 0;
      for (const list of due) {
        const context: AuditContext = { schoolId };
        try {
          await this.importList(context, {
            name: list.name,
            category: list.category ?? '',
            format: list.format,
            source: list.source_type === 'url' ? { type: 'url', url: list.source! } : { type: 'path', path: list.source! },
            listId: list.id,
          });
          done += 1;
        } catch (error) {
          // A failed fetch is logged and tried again at the next run.
          await db
            .transaction()
            .execute((trx) =>
              log(
                trx,
                context,
                'list.import_failed',
                `${list.name}: scheduled import failed`,
                error instanceof Error ? error.message.slice(0, 500) : String(error),
              ),
            );
          await repository.updateList(db, schoolId, list.id, { next_import_at: new Date(clock().getTime() + 3_600_000).toISOString() });
        }
      }
      return done;
    },

    incomingDir,

    async categories(schoolId: string) {
      await ensureDefaults(schoolId);
      return repository.categories(db, schoolId);
    },

    async lists(schoolId: string) {
      await ensureDefaults(schoolId);
      return repository.lists(db, schoolId);
    },

    async listVersions(schoolId: string, listId: string) {
      const list = await repository.findList(db, schoolId, listId);
      if (!list) throw notFound('list');
      return { list, versions: await repository.listVersions(db, schoolId, listId) };
    },

    async policies(schoolId: string) {
      await ensureDefaults(schoolId);
      return (await repository.policies(db, schoolId)).map((row) => ({
        ...row,
        blocked: JSON.parse(row.blocked_categories) as string[],
        timeWindows: JSON.parse(row.time_windows) as TimeWindow[],
      }));
    },

    async networks(schoolId: string) {
      return repository.networks(db, schoolId);
    },

    /** A category list from entries already normalised (the demo samples; imports go through lists.ts). */
    async addCategoryList(context: AuditContext, input: { name: string; category: string; source: string | null; format: string }, entries: ListEntries) {
      await ensureDefaults(context.schoolId);
      if (!(await repository.categories(db, context.schoolId)).some((row) => row.code === input.category))
        throw invalid('Choose a category', [{ field: 'category', message: 'Choose a category from the catalogue' }]);
      const id = await db.transaction().execute(async (trx) => {
        const listId = await createListIn(trx, context, { ...input, kind: 'category', sourceType: input.source ? 'path' : 'upload' }, entries);
        await log(trx, context, 'list.imported', `${input.name}: ${entries.domains.length} domains, ${entries.urls.length} URLs (${input.category})`, null, {
          listId,
        });
        return listId;
      });
      await compile(context.schoolId);
      return id;
    },

    /** A local allow or deny entry for a group's policy (a domain or a URL prefix), with the reason. */
    async addLocalEntry(context: AuditContext, input: { groupCode: string; kind: 'allow' | 'deny'; entry: string; reason: string }): Promise<void> {
      await ensureDefaults(context.schoolId);
      const parsed = parseEntry(input.entry);
      if (!parsed)
        throw invalid('Enter a domain (example.com) or a web address', [{ field: 'entry', message: 'Enter a domain such as example.com, or a web address' }]);
      const reason = validateReason(input.reason);
      await db.transaction().execute(async (trx) => {
        const listId = await localList(trx, context, input.groupCode, input.kind);
        const entries = await currentEntries(context.schoolId, listId, trx);
        const target = parsed.kind === 'domain' ? entries.domains : entries.urls;
        if (target.includes(parsed.value)) throw new AppError('CONFLICT', `${parsed.value} is already on this list`);
        target.push(parsed.value);
        target.sort();
        await newVersionIn(trx, context, listId, entries);
        const names = await policyNames(context.schoolId, trx);
        await log(
          trx,
          context,
          `local.${input.kind}_added`,
          `${parsed.value} added to the ${input.kind} list for ${groupLabel(input.groupCode, names)}`,
          reason,
          {
            group: input.groupCode,
            entry: parsed.value,
          },
        );
        await audit.record(context, `filtering.${input.kind}_added`, null, { group: input.groupCode, entry: parsed.value }, trx);
      });
      await compile(context.schoolId);
    },

    async removeLocalEntry(context: AuditContext, input: { groupCode: string; kind: 'allow' | 'deny'; entry: string; reason: string }): Promise<void> {
      const reason = validateReason(input.reason);
      await db.transaction().execute(async (trx) => {
        const listId = await localList(trx, context, input.groupCode, input.kind);
        const entries = await currentEntries(context.schoolId, listId, trx);
        const next = { domains: entries.domains.filter((entry) => entry !== input.entry), urls: entries.urls.filter((entry) => entry !== input.entry) };
        if (next.domains.length === entries.domains.length && next.urls.length === entries.urls.length) throw notFound('entry');
        await newVersionIn(trx, context, listId, next);
        const names = await policyNames(context.schoolId, trx);
        await log(
          trx,
          context,
          `local.${input.kind}_removed`,
          `${input.entry} removed from the ${input.kind} list for ${groupLabel(input.groupCode, names)}`,
          reason,
          {
            group: input.groupCode,
            entry: input.entry,
          },
        );
        await audit.record(context, `filtering.${input.kind}_removed`, null, { group: input.groupCode, entry: input.entry }, trx);
      });
      await compile(context.schoolId);
    },

    /** Changes a group's policy: blocked categories (never the illegal ones off), walled garden, SafeSearch. */
    async updatePolicy(
      context: AuditContext,
      groupCode: string,
      input: { blocked: string[]; allowListOnly: boolean; safeSearch: boolean; reason: string },
    ): Promise<void> {
      await ensureDefaults(context.schoolId);
      const reason = validateReason(input.reason);
      const known = new Set((await repository.categories(db, context.schoolId)).map((row) => row.code));
      const blocked = [...new Set(input.blocked.filter((code) => known.has(code) && !illegalCategories.includes(code)))].sort();
      await db.transaction().execute(async (trx) => {
        const policy = (await repository.policies(trx, context.schoolId)).find((row) => row.group_code === groupCode);
        if (!policy) throw notFound('policy');
        const before = JSON.parse(policy.blocked_categories) as string[];
        await repository.updatePolicy(trx, context.schoolId, groupCode, {
          blocked_categories: JSON.stringify(blocked),
          allow_list_only: input.allowListOnly ? 1 : 0,
          safe_search: input.safeSearch ? 1 : 0,
          updated_at: isoNow(clock),
        });
        const added = blocked.filter((code) => !before.includes(code));
        const removed = before.filter((code) => !blocked.includes(code));
        const parts = [
          ...(added.length ? [`now blocks ${added.join(', ')}`] : []),
          ...(removed.length ? [`no longer blocks ${removed.join(', ')}`] : []),
          ...(input.allowListOnly !== (policy.allow_list_only === 1) ? [input.allowListOnly ? 'allow-list only' : 'no longer allow-list only'] : []),
          ...(input.safeSearch !== (policy.safe_search === 1) ? [input.safeSearch ? 'SafeSearch enforced' : 'SafeSearch not enforced'] : []),
        ];
        await log(trx, context, 'policy.changed', `${policy.name}: ${parts.join('; ') || 'saved without changes'}`, reason, {
          group: groupCode,
          added,
          removed,
        });
        await audit.record(context, 'filtering.policy_changed', null, { group: groupCode, added, removed }, trx);
      });
      await compile(context.schoolId);
    },

    /** A time window for a group (for example games at lunchtime): categories allowed on some days between two times. */
    async addTimeWindow(
      context: AuditContext,
      groupCode: string,
      input: { days: string[]; from: string; to: string; allowCategories: string[]; reason: string },
    ): Promise<void> {
      const reason = validateReason(input.reason);
      const minutes = (text: string) => {
        const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
        return match ? Number(match[1]) * 60 + Number(match[2]) : -1;
      };
      const days = [...new Set(input.days.map(Number).filter((day) => Number.isInteger(day) && day >= 0 && day <= 6))].sort();
      const from = minutes(input.from);
      const to = minutes(input.to);
      const known = new Set((await repository.categories(db, context.schoolId)).map((row) => row.code));
      const allow = input.allowCategories.filter((code) => known.has(code) && !illegalCategories.includes(code));
      const fields = [];
      if (days.length === 0) fields.push({ field: 'days', message: 'Choose at least one day' });
      if (from < 0) fields.push({ field: 'from', message: 'Enter the start time as 24-hour hh:mm, for example 12:15' });
      if (to < 0 || to <= from) fields.push({ field: 'to', message: 'Enter an end time after the start, as 24-hour hh:mm' });
      if (allow.length === 0) fields.push({ field: 'allowCategories', message: 'Choose the categories allowed in the window' });
      if (fields.length > 0) throw invalid('There is a problem with the time window', fields);
      await db.transaction().execute(async (trx) => {
        const policy = (await repository.policies(trx, context.schoolId)).find((row) => row.group_code === groupCode);
        if (!policy) throw notFound('policy');
        const windows = JSON.parse(policy.time_windows) as TimeWindow[];
        windows.push({ days, from, to, allowCategories: allow });
        await repository.updatePolicy(trx, context.schoolId, groupCode, { time_windows: JSON.stringify(windows), updated_at: isoNow(clock) });
        await log(
          trx,
          context,
          'policy.window_added',
          `${policy.name}: ${allow.join(', ')} allowed ${input.from}–${input.to} on days ${days.join(', ')}`,
          reason,
          {
            group: groupCode,
          },
        );
      });
      await compile(context.schoolId);
    },

    async removeTimeWindow(context: AuditContext, groupCode: string, index: number): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const policy = (await repository.policies(trx, context.schoolId)).find((row) => row.group_code === groupCode);
        if (!policy) throw notFound('policy');
        const windows = JSON.parse(policy.time_windows) as TimeWindow[];
        if (!Number.isInteger(index) || index < 0 || index >= windows.length) throw notFound('time window');
        const [removed] = windows.splice(index, 1);
        await repository.updatePolicy(trx, context.schoolId, groupCode, { time_windows: JSON.stringify(windows), updated_at: isoNow(clock) });
        await log(trx, context, 'policy.window_removed', `${policy.name}: time window for ${removed!.allowCategories.join(', ')} removed`, null, {
          group: groupCode,
        });
      });
      await compile(context.schoolId);
    },

    async addNetwork(context: AuditContext, input: { cidr: string; groupCode: string; label: string }): Promise<void> {
      const cidr = input.cidr.trim();
      const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr) ?? /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr);
      const bits = match ? Number(match[2]) : -1;
      const v4 = match ? match[1]!.includes('.') : false;
      if (!match || bits < 0 || bits > (v4 ? 32 : 128) || (v4 && match[1]!.split('.').some((part) => Number(part) > 255)))
        throw invalid('Enter an address range such as 10.20.0.0/16', [{ field: 'cidr', message: 'Enter an address range such as 10.20.0.0/16' }]);
      // A school's default group policies are made on first use: a range can be the first thing added.
      await ensureDefaults(context.schoolId);
      if (!(await repository.policies(db, context.schoolId)).some((row) => row.group_code === input.groupCode))
        throw invalid('Choose a policy group', [{ field: 'groupCode', message: 'Choose which policy applies to this range' }]);
      const label = input.label.trim().slice(0, 100) || cidr;
      await db.transaction().execute(async (trx) => {
        await repository.insertNetwork(trx, { school_id: context.schoolId, id: newId(), cidr, group_code: input.groupCode, label, created_at: isoNow(clock) });
        await log(trx, context, 'network.added', `${cidr} (${label}) uses the ${input.groupCode} policy`, null, { cidr, group: input.groupCode });
      });
      await compile(context.schoolId);
    },

    async removeNetwork(context: AuditContext, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = (await repository.networks(trx, context.schoolId)).find((network) => network.id === id);
        if (!row || (await repository.deleteNetwork(trx, context.schoolId, id)) === 0) throw notFound('address range');
        await log(trx, context, 'network.removed', `${row.cidr} (${row.label}) removed`, null, { cidr: row.cidr });
      });
      await compile(context.schoolId);
    },

    /**
     * Any member of staff asks for a change: unblock (or block) a domain, a web address or a whole
     * category for a group, for a period, with the educational reason and any risks.
     */
    async requestChange(
      context: AuditContext,
      input: { target: string; targetType: string; groupCode: string; reason: string; riskNotes: string; startsOn: string; endsOn: string },
    ): Promise<{ id: string; reference: string }> {
      await ensureDefaults(context.schoolId);
      if (context.actor?.kind !== 'user') throw new AppError('FORBIDDEN', 'Only a signed-in member of staff can request a change');
      const fields = [];
      let target = '';
      let targetType: 'domain' | 'url' | 'category' = 'domain';
      if (input.targetType === 'category') {
        targetType = 'category';
        target = input.target;
        const categories = await repository.categories(db, context.schoolId);
        if (!categories.some((row) => row.code === target)) fields.push({ field: 'target', message: 'Choose a category' });
        if (illegalCategories.includes(target)) fields.push({ field: 'target', message: 'Illegal content is blocked for everyone and cannot be unblocked' });
      } else {
        const parsed = parseEntry(input.target);
        if (!parsed) fields.push({ field: 'target', message: 'Enter the site, for example example.com or https://example.com/page' });
        else {
          target = parsed.value;
          targetType = parsed.kind;
        }
      }
      if (!(await repository.policies(db, context.schoolId)).some((row) => row.group_code === input.groupCode))
        fields.push({ field: 'groupCode', message: 'Choose who the change is for' });
      if (!input.reason.trim() || input.reason.length > 2000) fields.push({ field: 'reason', message: 'Say why it is needed for teaching and learning' });
      if (input.riskNotes.length > 2000) fields.push({ field: 'riskNotes', message: 'Risk notes must be 2,000 characters or fewer' });
      const today = isoNow(clock).slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(input.startsOn) || input.startsOn < today) fields.push({ field: 'startsOn', message: 'Enter a start date from today' });
      if (!/^\d{4}-\d{2}-\d{2}$/.test(input.endsOn) || input.endsOn < input.startsOn)
        fields.push({ field: 'endsOn', message: 'Enter an end date on or after the start' });
      else if (Date.parse(input.endsOn) - Date.parse(input.startsOn) > 366 * 86_400_000)
        fields.push({ field: 'endsOn', message: 'A change lasts a year at most: ask again for longer' });
      if (fields.length > 0) throw invalid('There is a problem with the request', fields);
      const school = await schools.get(context.schoolId);
      const stage = school.settings.filterApproval === 'technician_then_headteacher' ? 'technician' : 'headteacher';
      const id = newId();
      const approvers = (await users.list(context.schoolId)).filter(
        (account) => account.status === 'active' && account.roles.includes(stage === 'technician' ? 'technician' : 'headteacher'),
      );
      const reference = await db.transaction().execute(async (trx) => {
        await serialise(trx, handle.dialect, `filter-request:${context.schoolId}`);
        const ref = `FR-${String((await repository.countRequests(trx, context.schoolId)) + 1).padStart(4, '0')}`;
        await repository.insertRequest(trx, {
          school_id: context.schoolId,
          id,
          reference: ref,
          target_type: targetType,
          target,
          group_code: input.groupCode,
          reason: input.reason.trim(),
          risk_notes: input.riskNotes.trim() || null,
          // Whole days in UTC: from the start of the first day to the end of the last.
          starts_at: `${input.startsOn}T00:00:00.000Z`,
          ends_at: new Date(Date.parse(`${input.endsOn}T00:00:00.000Z`) + 86_400_000).toISOString(),
          status: 'pending',
          stage,
          requested_by: context.actor?.kind === 'user' ? context.actor.userId : '',
          requested_at: isoNow(clock),
          decided_by: null,
          decided_at: null,
          decision_reason: null,
          ended_at: null,
        });
        const names = await policyNames(context.schoolId, trx);
        await log(
          trx,
          context,
          'request.made',
          `${ref}: unblock ${target} for ${groupLabel(input.groupCode, names)}, ${input.startsOn} to ${input.endsOn}`,
          input.reason.trim(),
          { request: ref },
        );

        await notifications.notify(
          trx,
          context.schoolId,
          approvers.map((account) => account.id),
          { title: `Filtering change request ${ref} to decide`, link: `/filtering/requests/${id}` },
        );
        await audit.record(context, 'filtering.request_made', null, { request: ref }, trx);
        return ref;
      });
      return { id, reference };
    },

    async requests(schoolId: string, filter: { status?: string; requestedBy?: string } = {}) {
      return repository.requests(db, schoolId, filter);
    },

    async request(schoolId: string, id: string) {
      const row = await repository.findRequest(db, schoolId, id);
      if (!row) throw notFound('request');
      return row;
    },

    /**
     * Approves or declines a request, with reasons. With the two-stage setting the technician looks
     * first; changes touching content categories then go to the headteacher. Approved exceptions start
     * and end on their own (the engine checks their period on every request).
     */
    async decide(context: AuditContext, id: string, input: { approve: boolean; reason: string }): Promise<RequestStatus | 'forwarded'> {
      if (context.actor?.kind !== 'user') throw new AppError('FORBIDDEN', 'Only a signed-in approver can decide');
      const roles = context.actor.roles;
      const reason = validateReason(input.reason, 'decisionReason');
      const request = await repository.findRequest(db, context.schoolId, id);
      if (!request) throw notFound('request');
      if (request.status !== 'pending') throw new AppError('CONFLICT', `This request has already been ${request.status}`);
      if (request.stage === 'headteacher' && !roles.includes('headteacher')) throw new AppError('FORBIDDEN', 'This request is for the headteacher to decide');
      if (request.stage === 'technician' && !roles.includes('technician') && !roles.includes('headteacher'))
        throw new AppError('FORBIDDEN', 'This request is for the technician to look at first');
      if (request.requested_by === context.actor.userId && !roles.includes('headteacher'))
        throw new AppError('FORBIDDEN', 'You cannot decide your own request');
      // Content categories (the riskier ones) need the headteacher even after the technician.
      const risky =
        request.target_type === 'category'
          ? contentCategories.has(request.target)
          : await this.touchesContentCategory(context.schoolId, request.target, request.group_code);
      const forward = input.approve && request.stage === 'technician' && !roles.includes('headteacher') && risky;
      const outcome: RequestStatus | 'forwarded' = forward ? 'forwarded' : input.approve ? 'approved' : 'declined';
      const heads = forward
        ? (await users.list(context.schoolId)).filter((account) => account.status === 'active' && account.roles.includes('headteacher'))
        : [];
      await db.transaction().execute(async (trx) => {
        const moved = await repository.updateRequest(
          trx,
          context.schoolId,
          id,
          'pending',
          forward
            ? { stage: 'headteacher', decision_reason: `Technician: ${reason}` }
            : { status: outcome, decided_by: context.actor?.kind === 'user' ? context.actor.userId : null, decided_at: isoNow(clock), decision_reason: reason },
        );
        if (!moved) throw new AppError('CONFLICT', 'Someone else has just decided this request');
        await log(
          trx,
          context,
          `request.${outcome}`,
          `${request.reference}: ${forward ? 'passed to the headteacher' : outcome} — ${request.target} for ${request.group_code}`,
          reason,
          { request: request.reference },
        );
        await notifications.notify(trx, context.schoolId, [request.requested_by], {
          title: `Filtering change request ${request.reference}: ${forward ? 'passed to the headteacher' : outcome}`,
          link: `/filtering/requests/${id}`,
        });
        if (forward) {
          await notifications.notify(
            trx,
            context.schoolId,
            heads.map((account) => account.id),
            { title: `Filtering change request ${request.reference} to decide`, link: `/filtering/requests/${id}` },
          );
        }
        await audit.record(context, `filtering.request_${outcome}`, null, { request: request.reference }, trx);
      });
      if (outcome === 'approved') await compile(context.schoolId);
      return outcome;
    },

    /** Whether a site is listed in a content (non-operational) category. */
    async touchesContentCategory(schoolId: string, target: string, group: string): Promise<boolean> {
      const engine = await engineFor(schoolId);
      const index = engine.current.policyByGroup.get(group);
      // As the group's policy sees it (with no policy the engine would name no category).
      const probe = engine.decideFor(index === undefined ? [] : [index], target.includes('/') ? `http://${target}` : `http://${target}/`, clock().getTime());
      return probe.category !== null && contentCategories.has(probe.category);
    },

    async withdraw(context: AuditContext, id: string): Promise<void> {
      const request = await repository.findRequest(db, context.schoolId, id);
      if (!request || context.actor?.kind !== 'user' || request.requested_by !== context.actor.userId) throw notFound('request');
      await db.transaction().execute(async (trx) => {
        const from = request.status;
        if (from !== 'pending' && from !== 'approved') throw new AppError('CONFLICT', `This request has already been ${from}`);
        if (!(await repository.updateRequest(trx, context.schoolId, id, from, { status: 'withdrawn', ended_at: isoNow(clock) })))
          throw new AppError('CONFLICT', 'This request has just changed');
        await log(trx, context, 'request.withdrawn', `${request.reference}: withdrawn by the requester`, null, { request: request.reference });
      });
      await compile(context.schoolId);
    },

    /** The jobs scheduler: marks exceptions whose period is over as expired, logs it and recompiles. */
    async expireExceptions(schoolId: string): Promise<number> {
      const ended = await repository.endedExceptions(db, schoolId, isoNow(clock));
      if (ended.length === 0) return 0;
      const context: AuditContext = { schoolId };
      await db.transaction().execute(async (trx) => {
        for (const request of ended) {
          if (!(await repository.updateRequest(trx, schoolId, request.id, 'approved', { status: 'expired', ended_at: isoNow(clock) }))) continue;
          await log(trx, context, 'request.expired', `${request.reference}: the exception for ${request.target} (${request.group_code}) has ended`, null, {
            request: request.reference,
          });
        }
      });
      await compile(schoolId);
      return ended.length;
    },

    async changeLog(schoolId: string, page = 1, pageSize = 100) {
      await ensureDefaults(schoolId);
      return repository.changeLog(db, schoolId, pageSize, (page - 1) * pageSize);
    },

    /** Decisions for a batch of requests, in process (the HTTP decision API). */
    async decideBatch(schoolId: string, batch: ReadonlyArray<{ url: string; ip?: string | undefined; user?: string | undefined }>): Promise<Decision[]> {
      const engine = await engineFor(schoolId);
      const now = clock().getTime();
      return batch.map((item) => {
        const who: Who = { ip: item.ip, user: item.user };
        return engine.decide(who, item.url, now);
      });
    },

    /** A group's policy as an RPZ zone, hosts file, dnsmasq or Unbound configuration, Squid ACL or adblock list. */
    async exportFor(schoolId: string, group: string, format: ExportFormat): Promise<string> {
      if (!models.has(schoolId)) await compile(schoolId);
      const model = models.get(schoolId)!;
      if (!model.policies.some((policy) => policy.group === group)) throw notFound('policy');
      try {
        return exportForModel(model, group, format, clock().getTime());
      } catch (error) {
        throw new AppError('CONFLICT', error instanceof Error ? error.message : String(error));
      }
    },

    /** What a block-page token says, when it is genuine. */
    readToken(schoolId: string, token: string) {
      return readBlockToken(token, blockTokenKey(schoolId));
    },

    /**
     * A filtering check (DfE filtering and monitoring standards): for one group, probes taken from the
     * school's own lists — a few entries of every category, the group's allow and deny lists, and a
     * site on no list — each with the answer the policy should give, asked of the engine (or, with a
     * proxy address, through the real proxy). Recorded with when, who, what, where and the result;
     * a failure notifies the technician and the headteacher.
     */
    async runCheck(
      context: AuditContext,
      input: { groupCode: string; location: string; proxyUrl?: string | undefined },
    ): Promise<{ id: string; passed: number; failed: number }> {
      const schoolId = context.schoolId;
      const policies = await this.policies(schoolId);
      const policy = policies.find((row) => row.group_code === input.groupCode);
      if (!policy) throw invalid('Choose a group', [{ field: 'groupCode', message: 'Choose the group to check' }]);
      const location = input.location.trim().slice(0, 200);
      if (!location) throw invalid('Say where the check was made', [{ field: 'location', message: 'Say where, or on which device, the check was made' }]);
      let proxy: URL | null = null;
      if (input.proxyUrl?.trim()) {
        try {
          proxy = new URL(input.proxyUrl.trim());
          if (proxy.protocol !== 'http:') throw new Error('not http');
        } catch {
          throw invalid('Enter the proxy as http://host:port', [{ field: 'proxyUrl', message: 'Enter the proxy as http://host:port' }]);
        }
      }
      const probes: Array<{ url: string; expect: 'allow' | 'block'; why: string }> = [];
      const lists = await repository.lists(db, schoolId);
      for (const list of lists) {
        const entries = await currentEntries(schoolId, list.id);
        const samples = [...entries.domains.slice(0, 3).map((domain) => `http://${domain}/`), ...entries.urls.slice(0, 1).map((url) => `http://${url}`)];
        let expect: 'allow' | 'block' | null = null;
        let why = '';
        if (list.kind === 'category' && list.category) {
          const illegal = illegalCategories.includes(list.category);
          expect = illegal || policy.blocked.includes(list.category) || policy.allow_list_only === 1 ? 'block' : 'allow';
          why = illegal ? `${list.category} (illegal)` : list.category;
        } else if (list.id === policy.deny_list_id) {
          expect = 'block';
          why = 'deny list';
        } else if (list.id === policy.allow_list_id) {
          expect = 'allow';
          why = 'allow list';
        }
        if (expect) for (const url of samples) probes.push({ url, expect, why });
      }
      probes.push({ url: 'http://haven-check-unlisted.example/', expect: policy.allow_list_only === 1 ? 'block' : 'allow', why: 'on no list' });
      // Sites on the group's allow list are allowed even if a category list also has them.
      const allow = policy.allow_list_id ? await currentEntries(schoolId, policy.allow_list_id) : { domains: [], urls: [] };
      for (const probe of probes) if (probe.why !== 'deny list' && allow.domains.some((domain) => probe.url === `http://${domain}/`)) probe.expect = 'allow';
      const engine = await engineFor(schoolId);
      const index = engine.current.policyByGroup.get(input.groupCode);
      const now = clock().getTime();
      const results: Array<{ url: string; expect: 'allow' | 'block'; why: string; answer: 'allow' | 'block'; detail: string; ok: boolean }> = [];
      for (const probe of probes) {
        let answer: 'allow' | 'block';
        let detail: string;
        if (proxy) {
          const status = await probeThroughProxy(proxy, probe.url);
          answer = status === 200 ? 'allow' : 'block';
          detail = `proxy answered ${status === 0 ? 'nothing' : status}`;
        } else {
          const verdict = engine.decideFor(index === undefined ? [] : [index], probe.url, now);
          answer = verdict.action;
          detail = `${verdict.rule}${verdict.category ? ` (${verdict.category})` : ''}`;
        }
        results.push({ ...probe, answer, detail, ok: answer === probe.expect });
      }
      const failed = results.filter((result) => !result.ok).length;
      const id = newId();
      const failedRecipients = failed
        ? (await users.list(schoolId)).filter(
            (account) => account.status === 'active' && (account.roles.includes('technician') || account.roles.includes('headteacher')),
          )
        : [];
      await db.transaction().execute(async (trx) => {
        await repository.insertCheck(trx, {
          school_id: schoolId,
          id,
          run_at: isoNow(clock),
          run_by: actorName(context),
          group_code: input.groupCode,
          location,
          method: proxy ? `proxy ${proxy.host}` : 'engine',
          passed: results.length - failed,
          failed,
          results: JSON.stringify(results),
          action_taken: null,
        });
        await log(trx, context, 'check.run', `Check of ${policy.name} at ${location}: ${results.length - failed} passed, ${failed} failed`, null, {
          check: id,
        });
        if (failed)
          await notifications.notify(
            trx,
            schoolId,
            failedRecipients.map((account) => account.id),
            { title: `A filtering check failed for ${policy.name}: ${failed} of ${results.length} probes`, link: `/filtering/checks/${id}` },
          );
      });
      return { id, passed: results.length - failed, failed };
    },

    async checks(schoolId: string) {
      return repository.checks(db, schoolId);
    },

    async check(schoolId: string, id: string) {
      const row = await repository.findCheck(db, schoolId, id);
      if (!row) throw notFound('check');
      return { ...row, probes: JSON.parse(row.results) as Array<{ url: string; expect: string; answer: string; why: string; detail: string; ok: boolean }> };
    },

    async recordCheckAction(context: AuditContext, id: string, action: string): Promise<void> {
      const text = action.trim();
      if (!text || text.length > 2000) throw invalid('Say what was done', [{ field: 'action', message: 'Say what was done about the result' }]);
      await db.transaction().execute(async (trx) => {
        if ((await repository.setCheckAction(trx, context.schoolId, id, text)) === 0) throw notFound('check');
        await log(trx, context, 'check.action', `Action after check ${id.slice(0, 8)}`, text, { check: id });
      });
    },

    /** The demo school's sample lists (fictional example domains) and its early-years allow list. */
    async seedDemo(context: AuditContext): Promise<void> {
      await ensureDefaults(context.schoolId);
      if ((await repository.lists(db, context.schoolId)).length > 0) return;
      await db.transaction().execute(async (trx) => {
        for (const category of catalogue) {
          const sample = demoSamples[category.code];
          if (!sample) continue;
          await createListIn(
            trx,
            context,
            { name: `Demo sample: ${category.name}`, kind: 'category', category: category.code, sourceType: 'upload', source: null, format: 'domains' },
            { domains: [...sample.domains].sort(), urls: [...sample.urls].sort() },
          );
        }
        const allow = await localList(trx, context, 'key_stage:EYFS', 'allow');
        await newVersionIn(trx, context, allow, { domains: [...demoEarlyYearsAllowList].sort(), urls: [] });
        await log(trx, context, 'list.imported', 'Demo sample lists (fictional example domains) for every category', null);
      });
      await compile(context.schoolId);
    },
  };
}

export type FilteringService = ReturnType<typeof createFilteringService>;
