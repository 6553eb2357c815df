import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import { londonInstant } from '../../platform/time.js';
import type { MonitorAlertHistoryTable, MonitorAlertTable } from '../../db/schema.js';
import type { AuditContext, AuditService } from '../../platform/audit/service.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import type { Mailer } from '../../platform/mail.js';
import type { NotificationService } from '../../platform/notifications/service.js';
import { can, type Actor } from '../../platform/permissions.js';
import type { SchoolService } from '../../platform/schools/service.js';
import type { UserService, UserSummary } from '../../platform/users/service.js';
import type { FilteringService } from '../filtering/service.js';
import type { IncidentService } from '../incidents/service.js';
import type { PeopleService } from '../people/service.js';
import { defaultPhraseList } from './default-phrases.js';
import { LineSplitter, type LogFormat } from './parse.js';
import { startIngestWorker, type IngestWorkerCommand, type IngestWorkerMessage } from './ingest-worker.js';
import { readFrom } from './read.js';
import { PhraseMatcher, parsePhraseList, themeNames, themes, type Theme } from './phrases.js';
import { Pipeline, type Drained, type PipelineCounts, type BadLine, type Hit } from './pipeline.js';
import * as repository from './repository.js';

/**
 * Monitoring (policies 000, 001, 002, 003, 004 §7.3.4): web-activity logs in, alerts out. Each chunk of
 * a log is stored in one transaction together with how far the source has been read, so a crash, a
 * second run or a rotated file neither duplicates nor skips a line.
 */

/** Lines per transaction: large enough to keep the per-commit cost small, small enough to bound memory. */
const linesPerCommit = 1_000_000;
/** An HTTP batch is at most this many lines. */
export const maxBatchLines = 10_000;

export interface IngestOutcome {
  sourceId: string;
  lines: number;
  /** Lines already stored by an earlier run (re-ingesting the same file). */
  skipped: number;
  bad: number;
  badSamples: BadLine[];
  events: number;
  searches: number;
  blocked: number;
  alerts: number;
  duplicateBatch?: boolean;
}

export const alertStatuses = ['open', 'dismissed', 'escalated'] as const;
export type AlertStatus = (typeof alertStatuses)[number];
export const alertStatusLabels: Record<AlertStatus, string> = { open: 'Open', dismissed: 'Dismissed', escalated: 'Escalated to an incident' };

/** Which incident type and risk area an escalated alert suggests (the DSL can change them). */
const themeIncident: Record<string, { type: string; riskArea: 'content' | 'contact' | 'conduct'; role: 'affected' | 'instigator' | 'victim' }> = {
  self_harm: { type: 'inappropriate_website', riskArea: 'content', role: 'affected' },
  suicide: { type: 'inappropriate_website', riskArea: 'content', role: 'affected' },
  bullying: { type: 'cyberbullying', riskArea: 'conduct', role: 'affected' },
  extremism: { type: 'radicalisation', riskArea: 'content', role: 'affected' },
  sexual: { type: 'inappropriate_website', riskArea: 'content', role: 'instigator' },
  grooming: { type: 'online_csae', riskArea: 'contact', role: 'victim' },
  drugs: { type: 'inappropriate_website', riskArea: 'content', role: 'instigator' },
  weapons: { type: 'inappropriate_website', riskArea: 'content', role: 'instigator' },
  violence: { type: 'inappropriate_website', riskArea: 'content', role: 'instigator' },
  hate: { type: 'online_hate', riskArea: 'content', role: 'instigator' },
  csam: { type: 'illegal_content', riskArea: 'content', role: 'instigator' },
  terrorism: { type: 'illegal_content', riskArea: 'content', role: 'instigator' },
};

export function themeLabel(theme: string, categoryNames: ReadonlyMap<string, string> = new Map()): string {
  if ((themes as readonly string[]).includes(theme)) return themeNames[theme as Theme];
  return `Blocked: ${categoryNames.get(theme) ?? theme}`;
}

/** Who may read an alert: alerts about staff are the headteacher's alone (issue 6; DESIGN.md need to know). */
export function canSeeAlert(actor: Actor | undefined, alert: { about_staff: number }): boolean {
  if (!can(actor, 'monitoring.alerts')) return false;
  if (alert.about_staff === 1) return actor?.kind === 'user' && actor.roles.includes('headteacher');
  return true;
}

function seesStaffAlerts(actor: Actor | undefined): boolean {
  return actor?.kind === 'user' && actor.roles.includes('headteacher');
}

function fingerprintOf(format: LogFormat, firstLine: Buffer): string {
  return createHash('sha256').update(format).update('\0').update(firstLine).digest('hex');
}

function actorName(context: AuditContext): string {
  return context.actor?.displayName ?? 'Haven';
}

export function createMonitoringService(deps: {
  handle: DatabaseHandle;
  clock: () => Date;
  audit: AuditService;
  schools: SchoolService;
  people: PeopleService;
  users: UserService;
  notifications: NotificationService;
  mailer: Mailer;
  incidents: IncidentService;
  filtering: FilteringService;
  publicUrl: string;
}) {
  const { handle, clock, audit, schools, people, users, notifications, mailer, incidents, filtering, publicUrl } = deps;
  const { db } = handle;
  const matchers = new Map<string, { version: number; matcher: PhraseMatcher }>();

  async function ensurePhraseList(schoolId: string) {
    const current = await repository.currentPhraseList(db, schoolId);
    if (current) return current;
    const { entries, errors } = parsePhraseList(defaultPhraseList);
    if (errors.length > 0) throw new Error(`The default phrase list has errors: ${errors.map((error) => `line ${error.line}: ${error.message}`).join('; ')}`);
    // Two first uses at once: the version's primary key lets one insert win.
    await repository.insertPhraseList(db, {
      school_id: schoolId,
      version: 1,
      text: defaultPhraseList,
      entries: entries.length,
      note: 'Haven’s default phrase list',
      created_by: 'Haven',
      created_at: isoNow(clock),
    });
    return (await repository.currentPhraseList(db, schoolId))!;
  }

  async function matcherFor(schoolId: string): Promise<PhraseMatcher> {
    const current = await ensurePhraseList(schoolId);
    const cached = matchers.get(schoolId);
    if (cached && cached.version === current.version) return cached.matcher;
    const matcher = new PhraseMatcher(parsePhraseList(current.text).entries);
    matchers.set(schoolId, { version: current.version, matcher });
    return matcher;
  }

  async function pipelineFor(schoolId: string, format: LogFormat): Promise<Pipeline> {
    const [school, engine, matcher, accounts] = await Promise.all([
      schools.get(schoolId),
      filtering.engineFor(schoolId),
      matcherFor(schoolId),
      people.networkAccounts(schoolId),
    ]);
    return new Pipeline({
      format,
      engine,
      matcher,
      timeZone: school.timeZone,
      users: accounts,
      thresholds: school.settings.monitorGroupThresholds,
      defaultThreshold: school.settings.monitorThreshold,
      watchedCategories: school.settings.monitorWatchedCategories,
    });
  }

  async function sourceFor(schoolId: string, input: { kind: 'file' | 'http'; format: LogFormat; label: string; fingerprint: string }) {
    const found = await repository.findSourceByFingerprint(db, schoolId, input.fingerprint);
    if (found) return found;
    const now = isoNow(clock);
    await repository.insertSource(db, {
      school_id: schoolId,
      id: newId(),
      kind: input.kind,
      format: input.format,
      label: input.label.slice(0, 300),
      fingerprint: input.fingerprint,
      byte_offset: 0,
      lines: 0,
      created_at: now,
      updated_at: now,
    });
    return (await repository.findSourceByFingerprint(db, schoolId, input.fingerprint))!;
  }

  interface Recipients {
    /** DSL and deputies: severity 4 and 5 at once. */
    urgent: UserSummary[];
    /** The headteacher: everything about staff. */
    heads: UserSummary[];
    /** The digest of the rest: DSL, deputies and the e-safety lead. */
    digest: UserSummary[];
  }

  async function recipientsOf(schoolId: string): Promise<Recipients> {
    const active = (await users.list(schoolId)).filter((user) => user.status === 'active');
    const having = (...roles: string[]) => active.filter((user) => user.roles.some((role) => roles.includes(role)));
    return { urgent: having('dsl', 'deputy_dsl'), heads: having('headteacher'), digest: having('dsl', 'deputy_dsl', 'esafety_lead') };
  }

  /**
   * Turns hits into alerts inside the chunk's transaction. Repeats for the same person (or device) and
   * theme within the suppression window of the alert's first hit fold into it, counting; severity 4–5
   * notifies at once (in-app here, email after the commit).
   */
  async function raiseAlerts(trx: DbOrTrx, schoolId: string, windowMinutes: number, hits: Hit[], recipients: Recipients) {
    const windowMs = windowMinutes * 60_000;
    const now = isoNow(clock);
    type Entry = { row: MonitorAlertTable; isNew: boolean; dirty: boolean; matched: Set<string> };
    // The alert each person and theme is folding into now, and every alert created or folded (a later
    // window replaces the first in `open`, but both must be written).
    const open = new Map<string, Entry>();
    const touched: Entry[] = [];
    hits.sort((a, b) => a.event.at - b.event.at);
    let created = 0;
    // What the batch's earliest hit could fold into, and everything after it, in one query.
    const stored =
      hits.length > 0
        ? await repository.openAlertsSince(trx, schoolId, new Date(hits[0]!.event.at - windowMs).toISOString())
        : new Map<string, MonitorAlertTable>();
    for (const hit of hits) {
      const event = hit.event;
      const subject = event.personId !== null ? `p:${event.personId}` : `ip:${event.client}`;
      const key = `${subject}|${hit.theme}`;
      const at = new Date(event.at).toISOString();
      let alert = open.get(key);
      if (alert && event.at - Date.parse(alert.row.first_at) > windowMs) alert = undefined;
      if (!alert) {
        const found = stored.get(key);
        if (found && Math.abs(event.at - Date.parse(found.first_at)) <= windowMs)
          alert = { row: found, isNew: false, dirty: false, matched: new Set(JSON.parse(found.matched) as string[]) };
      }
      if (alert) {
        const row = alert.row;
        row.count += 1;
        if (at > row.last_at) {
          row.last_at = at;
          row.host = event.host;
          if (event.searchTerm !== null) row.search_term = event.searchTerm;
        }
        if (at < row.first_at) row.first_at = at;
        row.severity = Math.max(row.severity, hit.severity);
        for (const phrase of hit.matched) alert.matched.add(phrase);
        if (!alert.dirty) touched.push(alert);
        alert.dirty = true;
        open.set(key, alert);
        continue;
      }
      const row: MonitorAlertTable = {
        school_id: schoolId,
        id: newId(),
        // Numbered below, once the batch's new alerts are known (numbers are reserved per year at once).
        reference: '',
        kind: hit.kind,
        theme: hit.theme,
        category: event.category,
        severity: hit.severity,
        subject,
        person_id: event.personId,
        about_staff: event.staff ? 1 : 0,
        group_code: event.group,
        client: event.client,
        host: event.host,
        search_term: event.searchTerm,
        matched: '[]',
        first_at: at,
        last_at: at,
        count: 1,
        status: 'open',
        dismissed_reason: null,
        false_positive: 0,
        incident_id: null,
        notified_at: null,
        digested_at: null,
        created_at: now,
        updated_at: now,
      };
      const entry = { row, isNew: true, dirty: true, matched: new Set(hit.matched) };
      open.set(key, entry);
      touched.push(entry);
      created += 1;
    }
    // References in order of first sighting, per year of the first sighting.
    const byYear = new Map<number, MonitorAlertTable[]>();
    for (const alert of touched) {
      if (!alert.isNew) continue;
      const year = new Date(alert.row.first_at).getUTCFullYear();
      const rows = byYear.get(year) ?? [];
      rows.push(alert.row);
      byYear.set(year, rows);
    }
    for (const [year, rows] of byYear) {
      const first = await repository.reserveAlertNumbers(trx, handle.dialect === 'postgres', schoolId, year, rows.length);
      rows.forEach((row, index) => (row.reference = `AL-${year}-${String(first + index).padStart(5, '0')}`));
    }
    const emails: Array<{ to: string; subject: string; text: string }> = [];
    const newRows: MonitorAlertTable[] = [];
    const raisedHistory: MonitorAlertHistoryTable[] = [];
    for (const alert of touched) {
      const row = alert.row;
      row.matched = JSON.stringify([...alert.matched]);
      row.updated_at = now;
      const urgent = row.severity >= 4 && row.notified_at === null;
      if (urgent) row.notified_at = now;
      if (alert.isNew) {
        newRows.push(row);
        raisedHistory.push({
          school_id: schoolId,
          alert_id: row.id,
          id: newId(),
          at: now,
          actor: 'Haven monitoring',
          kind: 'raised',
          note: `Raised at severity ${row.severity}`,
        });
      } else
        await repository.updateAlert(trx, schoolId, row.id, {
          count: row.count,
          first_at: row.first_at,
          last_at: row.last_at,
          host: row.host,
          search_term: row.search_term,
          severity: row.severity,
          matched: row.matched,
          notified_at: row.notified_at,
          updated_at: now,
        });
      if (urgent) {
        // Alerts about staff go to the headteacher only; no detail beyond a reference and a link (DESIGN.md).
        const to = row.about_staff === 1 ? recipients.heads : recipients.urgent;
        await notifications.notify(
          trx,
          schoolId,
          to.map((user) => user.id),
          { title: `Urgent monitoring alert ${row.reference}`, link: `/monitoring/alerts/${row.id}`, urgent: true },
        );
        for (const user of to)
          emails.push({
            to: user.email,
            subject: `Urgent Haven monitoring alert ${row.reference}`,
            text: `An urgent monitoring alert, ${row.reference}, needs your attention now.\n\nOpen it here (you will need to sign in):\n${publicUrl}/monitoring/alerts/${row.id}`,
          });
      }
    }
    await repository.insertAlerts(trx, newRows);
    await repository.insertAlertHistories(trx, raisedHistory);
    return { created, emails };
  }

  /**
   * Stores what the pipeline gathered and moves the source on, in one transaction. `from` is the
   * source's line count as this run found it; if another run moved it meanwhile, nothing is written.
   */
  async function commitChunk(
    schoolId: string,
    pipeline: Pipeline,
    source: { id: string; lines: number },
    to: { byteOffset: number; lines: number },
    extra?: (trx: DbOrTrx) => Promise<boolean>,
  ): Promise<{ alerts: number; written: boolean }> {
    return commitTaken(schoolId, pipeline.drain(), source, to, extra);
  }

  /** commitChunk for a batch already drained (by the ingest worker's pipeline). */
  async function commitTaken(
    schoolId: string,
    taken: Drained,
    source: { id: string; lines: number },
    to: { byteOffset: number; lines: number },
    extra?: (trx: DbOrTrx) => Promise<boolean>,
  ): Promise<{ alerts: number; written: boolean }> {
    const [school, recipients] = await Promise.all([schools.get(schoolId), taken.hits.length > 0 ? recipientsOf(schoolId) : null]);
    const outcome = await db.transaction().execute(async (trx) => {
      if (extra && !(await extra(trx))) return { alerts: 0, emails: [], written: false };
      const moved = await repository.advanceSource(trx, schoolId, source.id, source.lines, { ...to, at: isoNow(clock) });
      if (!moved) throw new AppError('CONFLICT', 'Another ingest of this log moved on meanwhile: nothing was stored from this run; run it again.');
      await repository.insertEvents(handle, trx, schoolId, source.id, taken.events);
      await repository.addTraffic(handle, trx, schoolId, taken.traffic);
      const raised =
        taken.hits.length > 0
          ? await raiseAlerts(trx, schoolId, school.settings.monitorSuppressionMinutes, taken.hits, recipients!)
          : { created: 0, emails: [] };
      return { alerts: raised.created, emails: raised.emails, written: true };
    });
    source.lines = to.lines;
    for (const mail of outcome.emails) await mailer.send({ schoolId, ...mail });
    return { alerts: outcome.alerts, written: outcome.written };
  }

  async function recordIngest(schoolId: string, sourceId: string, format: LogFormat, startedAt: string, outcome: IngestOutcome): Promise<void> {
    await repository.insertIngest(db, {
      school_id: schoolId,
      id: newId(),
      source_id: sourceId,
      format,
      started_at: startedAt,
      finished_at: isoNow(clock),
      lines: outcome.lines,
      skipped: outcome.skipped,
      bad: outcome.bad,
      events: outcome.events,
      searches: outcome.searches,
      blocked: outcome.blocked,
      alerts: outcome.alerts,
      bad_samples: JSON.stringify(outcome.badSamples),
    });
  }

  function outcomeOf(sourceId: string, pipeline: PipelineCounts, skipped: number, alerts: number): IngestOutcome {
    return {
      sourceId,
      lines: pipeline.lines,
      skipped,
      bad: pipeline.bad,
      badSamples: pipeline.badSamples,
      events: pipeline.events,
      searches: pipeline.searches,
      blocked: pipeline.blocked,
      alerts,
    };
  }

  const fingerprintBytes = 4096;

  /** The first line of a plain file (its identity across renames; the first 4 KiB of a longer one), or null while it has none. */
  async function firstLineOfHandle(file: FileHandle): Promise<Buffer | null> {
    const buffer = Buffer.alloc(fingerprintBytes);
    const { bytesRead } = await file.read(buffer, 0, fingerprintBytes, 0);
    const newline = buffer.subarray(0, bytesRead).indexOf(10);
    if (newline !== -1) return buffer.subarray(0, newline);
    return bytesRead === fingerprintBytes ? buffer : null;
  }

  async function firstLineOfGzip(path: string): Promise<Buffer | null> {
    const chunks: Buffer[] = [];
    let length = 0;
    const stream = createReadStream(path).pipe(createGunzip());
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= fingerprintBytes) break;
      }
    } catch {
      // A damaged archive: whatever came out before the damage identifies it.
    } finally {
      stream.destroy();
    }
    const head = Buffer.concat(chunks).subarray(0, fingerprintBytes);
    const newline = head.indexOf(10);
    return newline === -1 ? (head.length > 0 ? head : null) : head.subarray(0, newline);
  }

  async function isGzip(path: string): Promise<boolean> {
    const file = await open(path, 'r');
    try {
      const magic = Buffer.alloc(2);
      const { bytesRead } = await file.read(magic, 0, 2, 0);
      return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      await file.close();
    }
  }

  interface FileRun {
    schoolId: string;
    format: LogFormat;
    path: string;
    /** The in-process pipeline (follow mode); a one-shot run's lines go through the ingest worker's. */
    pipeline: Pipeline | null;
    /** The figures so far: the pipeline's own, or the worker's at its end. */
    counts: PipelineCounts;
    alerts: number;
    skipped: number;
    sourceId: string;
  }

  type FollowRun = FileRun & { pipeline: Pipeline };

  /**
   * A one-shot plain or gzip file through the ingest worker: it reads and classifies while this
   * thread stores the batch before, each in its own transaction, as the in-process reader does.
   */
  async function ingestInWorker(run: FileRun, gzip: boolean, signal?: AbortSignal): Promise<void> {
    let firstLine: Buffer | null;
    if (gzip) firstLine = await firstLineOfGzip(run.path);
    else {
      const file = await open(run.path, 'r');
      try {
        firstLine = await firstLineOfHandle(file);
      } finally {
        await file.close();
      }
    }
    if (!firstLine) return;
    const source = await sourceOf(run, firstLine, run.path);
    run.sourceId = source.id;
    const schoolId = run.schoolId;
    await filtering.engineFor(schoolId); // the snapshot file the worker loads is written
    const [school, phrases, accounts] = await Promise.all([schools.get(schoolId), ensurePhraseList(schoolId), people.networkAccounts(schoolId)]);
    const worker = startIngestWorker({
      format: run.format,
      path: run.path,
      gzip,
      source: { lines: source.lines, byteOffset: source.byteOffset },
      linesPerBatch: linesPerCommit,
      snapshotPath: filtering.snapshotPath(schoolId),
      phraseList: phrases.text,
      timeZone: school.timeZone,
      users: [...accounts],
      thresholds: school.settings.monitorGroupThresholds,
      defaultThreshold: school.settings.monitorThreshold,
      watchedCategories: school.settings.monitorWatchedCategories,
    });
    const state = { id: source.id, lines: source.lines };
    const stop = () => worker.postMessage({ type: 'stop' } satisfies IngestWorkerCommand);
    signal?.addEventListener('abort', stop);
    if (signal?.aborted) stop();
    try {
      await new Promise<void>((resolve, reject) => {
        let finished = false;
        // Once a batch fails, nothing after it may be stored: the source would move past the lines it held.
        let failed = false;
        let storing = Promise.resolve();
        worker.on('message', (message: IngestWorkerMessage) => {
          storing = storing
            .then(async () => {
              if (failed) return;
              if (message.type === 'batch') {
                const { alerts } = await commitTaken(schoolId, message.taken, state, { byteOffset: message.byteOffset, lines: message.lines });
                run.alerts += alerts;
                worker.postMessage({ type: 'stored' } satisfies IngestWorkerCommand);
              } else {
                run.counts = message.counts;
                run.skipped = message.skipped;
                finished = true;
                resolve();
              }
            })
            .catch((error: unknown) => {
              finished = true;
              failed = true;
              void worker.terminate();
              reject(error instanceof Error ? error : new Error(String(error)));
            });
        });
        worker.on('error', (error) => {
          finished = true;
          // A batch being stored finishes (or fails) first: nothing is left half-way when this returns.
          void storing.then(
            () => reject(error),
            () => reject(error),
          );
        });
        worker.on('exit', (code) => {
          // Batches already received are still being stored: wait for them before saying so.
          void storing.then(() => {
            if (!finished) reject(new Error(`The ingest worker stopped before the end of the file (exit code ${code})`));
          });
        });
      });
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  /** Reads lines through the pipeline, committing every linesPerCommit lines and at the end; lines up to `storedOffset` were stored before. */
  function reader(run: FollowRun, source: { id: string; lines: number; byteOffset: number }, resume: boolean) {
    const state = { id: source.id, lines: source.lines };
    let committedLines = state.lines;
    let lastOffset = source.byteOffset;
    let lastLine = state.lines;
    let pending = 0;
    run.sourceId = source.id;
    const splitter = new LineSplitter(
      (bytes, start, end, lineNumber, offsetAfter) => {
        if (offsetAfter <= source.byteOffset) {
          run.skipped += 1;
          return;
        }
        run.pipeline.push(bytes, start, end, lineNumber);
        lastOffset = offsetAfter;
        lastLine = lineNumber;
        pending += 1;
      },
      resume ? state.lines : 0,
      resume ? source.byteOffset : 0,
    );
    return {
      splitter,
      get position() {
        return lastOffset;
      },
      due: () => pending >= linesPerCommit,
      async commit() {
        if (lastLine === committedLines) return;
        const { alerts } = await commitChunk(run.schoolId, run.pipeline, state, { byteOffset: lastOffset, lines: lastLine });
        run.alerts += alerts;
        committedLines = lastLine;
        pending = 0;
      },
    };
  }

  async function sourceOf(run: FileRun, firstLine: Buffer, label: string) {
    const source = await sourceFor(run.schoolId, { kind: 'file', format: run.format, label, fingerprint: fingerprintOf(run.format, firstLine) });
    return { id: source.id, lines: Number(source.lines), byteOffset: Number(source.byte_offset) };
  }

  /**
   * A followed file, through an open handle (so a renamed file can still be finished): how far it has
   * been read, and its reader. Lines read are stored in batches (see `settle`), not at every poll.
   */
  interface Tail {
    read: ReturnType<typeof reader>;
    /** Bytes read so far (a partial last line waits in the splitter for its newline). */
    position: number;
    committedAt: number;
  }

  /** A followed file's tail once it has a first line (its identity); null while it is empty. */
  async function openTail(run: FollowRun, file: FileHandle): Promise<Tail | null> {
    const firstLine = await firstLineOfHandle(file);
    if (!firstLine) return null;
    const source = await sourceOf(run, firstLine, run.path);
    return { read: reader(run, source, true), position: source.byteOffset, committedAt: Date.now() };
  }

  /** Reads what has been added to a followed file since the last read. */
  async function readMore(tail: Tail, file: FileHandle, signal?: AbortSignal): Promise<void> {
    await readFrom(file, tail.position, async (chunk) => {
      tail.position += chunk.length;
      tail.read.splitter.push(chunk);
      if (tail.read.due()) await commitTail(tail);
      return signal?.aborted === true;
    });
  }

  async function commitTail(tail: Tail): Promise<void> {
    await tail.read.commit();
    tail.committedAt = Date.now();
  }

  /**
   * Stores a followed file's lines when it is time: at once when a hit must reach the DSL now, else
   * every `everyMs` — each commit rewrites the touched people's day of sites, so not at every poll.
   */
  async function settle(run: FollowRun, tail: Tail, everyMs: number): Promise<void> {
    if (run.pipeline.urgent || Date.now() - tail.committedAt >= everyMs) await commitTail(tail);
  }

  async function wait(ms: number, signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Follows a plain file: keeps its handle open, reads what is added, and when the name points at a
   * new file (rotation) finishes the old one through its handle before starting on the new one.
   */
  async function follow(run: FollowRun, pollMs: number, signal?: AbortSignal, onProgress?: () => void): Promise<void> {
    let file: FileHandle | null = null;
    let tail: Tail | null = null;
    let inode = -1;
    // After a rotation the proxy may write to the old file until it reopens its log: the old file is
    // read again at each poll for a while (graceReads polls, at least 5 s) before it is let go.
    let previous: { file: FileHandle; tail: Tail | null; reads: number } | null = null;
    const graceReads = Math.max(10, Math.ceil(5000 / pollMs));
    // Lines are stored every 20 polls (10 s at the default 500 ms), or at once for an urgent hit.
    const everyMs = 20 * pollMs;
    // The pipeline gathers for one source at a time: what one file gave is stored before the other is read.
    let lastRead: Tail | null = null;
    const readTail = async (which: Tail, handle: FileHandle) => {
      if (lastRead && lastRead !== which) await commitTail(lastRead);
      lastRead = which;
      await readMore(which, handle, signal);
    };
    const letGo = async (which: Tail | null) => {
      if (!which) return;
      await commitTail(which);
      if (lastRead === which) lastRead = null;
    };
    try {
      while (!signal?.aborted) {
        if (previous) {
          previous.tail ??= await openTail(run, previous.file);
          // Only when it grew: reading it switches the pipeline over, which stores the other file's lines.
          if (previous.tail && (await previous.file.stat()).size !== previous.tail.position) await readTail(previous.tail, previous.file);
          previous.reads += 1;
          if (previous.reads >= graceReads) {
            await letGo(previous.tail);
            await previous.file.close();
            previous = null;
          }
        }
        if (!file) {
          try {
            file = await open(run.path, 'r');
            inode = (await file.stat()).ino;
            tail = null;
          } catch {
            file = null; // between the rename and the new file: wait for it
          }
        }
        if (file) {
          tail ??= await openTail(run, file);
          if (tail && (await file.stat()).size !== tail.position) {
            await readTail(tail, file);
            onProgress?.();
          }
          let current: number | null = null;
          try {
            current = (await stat(run.path)).ino;
          } catch {
            current = null;
          }
          if (current !== inode) {
            // Rotated: whatever was written to the old file after our last read, then on to the new one.
            tail ??= await openTail(run, file);
            if (tail) await readTail(tail, file);
            if (previous) {
              await letGo(previous.tail);
              await previous.file.close();
            }
            previous = { file, tail, reads: 0 };
            file = null;
            tail = null;
            continue;
          }
        }
        if (lastRead) await settle(run, lastRead, everyMs);
        await wait(pollMs, signal);
      }
    } finally {
      // Stopping stores what was read (a crash instead leaves it to the next run, from the stored position).
      if (lastRead) await commitTail(lastRead);
      await file?.close();
      await previous?.file.close();
    }
  }

  const service = {
    matcherFor,

    /**
     * `haven ingest`: a log file (plain or gzip) from where it was last read. With `follow`, keeps
     * reading as the file grows, and when it is renamed (rotated) finishes the old file and starts on
     * the new one, until `signal` aborts.
     */
    async ingestFile(
      context: AuditContext,
      input: { format: LogFormat; path: string; follow?: boolean; pollMs?: number; signal?: AbortSignal; onProgress?: (outcome: IngestOutcome) => void },
    ): Promise<IngestOutcome> {
      const startedAt = isoNow(clock);
      const gzip = await isGzip(input.path);
      const run: FileRun = {
        schoolId: context.schoolId,
        format: input.format,
        path: input.path,
        pipeline: null,
        counts: { lines: 0, bad: 0, events: 0, searches: 0, blocked: 0, badSamples: [] },
        alerts: 0,
        skipped: 0,
        sourceId: '',
      };
      if (input.follow && !gzip) {
        // Follow mode reads a few lines at a time as they are written: in process.
        const pipeline = await pipelineFor(context.schoolId, input.format);
        run.pipeline = pipeline;
        run.counts = pipeline;
        const progress = () => input.onProgress?.(outcomeOf(run.sourceId, run.counts, run.skipped, run.alerts));
        await follow(run as FollowRun, input.pollMs ?? 500, input.signal, progress);
      } else await ingestInWorker(run, gzip, input.signal);
      const sourceId = run.sourceId;
      const outcome = outcomeOf(sourceId, run.counts, run.skipped, run.alerts);
      if (sourceId) await recordIngest(context.schoolId, sourceId, input.format, startedAt, outcome);
      await audit.record(context, 'monitoring.ingested', null, { path: input.path, format: input.format, lines: outcome.lines, bad: outcome.bad });
      return outcome;
    },

    /** A batch from an integration (`POST /api/v1/monitoring/logs`): a repeated batch id is acknowledged without storing it again. */
    async ingestBatch(context: AuditContext, input: { format: LogFormat; source: string; batchId: string; lines: readonly string[] }): Promise<IngestOutcome> {
      if (input.lines.length > maxBatchLines)
        throw invalid(`A batch is at most ${maxBatchLines} lines`, [{ field: 'lines', message: `At most ${maxBatchLines} lines` }]);
      const startedAt = isoNow(clock);
      const schoolId = context.schoolId;
      const source = await sourceFor(schoolId, {
        kind: 'http',
        format: input.format,
        label: input.source,
        fingerprint: fingerprintOf(input.format, Buffer.from(`http:${input.source}`)),
      });
      const pipeline = await pipelineFor(schoolId, input.format);
      const state = { id: source.id, lines: Number(source.lines) };
      input.lines.forEach((text, index) => {
        const bytes = Buffer.from(text, 'utf8');
        pipeline.push(bytes, 0, bytes.length, state.lines + index + 1);
      });
      const received = isoNow(clock);
      const { alerts, written } = await commitChunk(
        schoolId,
        pipeline,
        state,
        { byteOffset: Number(source.byte_offset), lines: state.lines + input.lines.length },
        (trx) =>
          repository.insertBatch(trx, { school_id: schoolId, source_id: source.id, batch_id: input.batchId, lines: input.lines.length, received_at: received }),
      );
      if (!written) return { ...outcomeOf(source.id, pipeline, input.lines.length, 0), lines: 0, events: 0, searches: 0, blocked: 0, duplicateBatch: true };
      const outcome = outcomeOf(source.id, pipeline, 0, alerts);
      await recordIngest(schoolId, source.id, input.format, startedAt, outcome);
      await audit.record(context, 'monitoring.batch_ingested', null, { source: input.source, lines: outcome.lines, bad: outcome.bad });
      return outcome;
    },

    async ingests(schoolId: string) {
      const rows = await repository.ingests(db, schoolId);
      return rows.map((row) => ({ ...row, badSamples: JSON.parse(row.bad_samples) as BadLine[] }));
    },

    async sources(schoolId: string) {
      return repository.sources(db, schoolId);
    },

    // --- Alerts and triage ---

    async alerts(context: AuditContext, filter: Omit<repository.AlertFilter, 'includeStaff'> = {}) {
      const rows = await repository.listAlerts(db, context.schoolId, { ...filter, includeStaff: seesStaffAlerts(context.actor) });
      const named = await people.getMany(
        context.schoolId,
        rows.map((row) => row.person_id).filter((id): id is string => id !== null),
      );
      await audit.record(context, 'monitoring.alerts_listed', null, { filter, rows: rows.length });
      return rows.map((row) => ({ ...row, who: row.person_id ? (named.get(row.person_id)?.displayName ?? 'Unknown person') : `Device ${row.client}` }));
    },

    async alert(context: AuditContext, id: string) {
      const row = await repository.findAlert(db, context.schoolId, id);
      if (!row || !canSeeAlert(context.actor, row)) throw notFound('alert');
      const [history, events, person] = await Promise.all([
        repository.alertHistory(db, context.schoolId, id),
        repository.eventsOfAlert(db, context.schoolId, row),
        row.person_id ? people.get(context.schoolId, row.person_id) : Promise.resolve(null),
      ]);
      await audit.read(context, 'monitor_alert', id);
      return { row, history, events, person, matched: JSON.parse(row.matched) as string[] };
    },

    async dismiss(context: AuditContext, id: string, input: { reason: string; falsePositive: boolean }): Promise<void> {
      const reason = input.reason.trim();
      if (!reason) throw invalid('Give the reason for dismissing the alert', [{ field: 'reason', message: 'Give the reason for dismissing the alert' }]);
      if (reason.length > 2000)
        throw invalid('The reason must be 2,000 characters or fewer', [{ field: 'reason', message: 'The reason must be 2,000 characters or fewer' }]);
      const row = await repository.findAlert(db, context.schoolId, id);
      if (!row || !canSeeAlert(context.actor, row)) throw notFound('alert');
      if (row.status !== 'open') throw invalid('Only an open alert can be dismissed');
      const now = isoNow(clock);
      await db.transaction().execute(async (trx) => {
        // Only from open: two dismissals (or a dismissal and an escalation) at once cannot both happen.
        const moved = await repository.moveAlertFromOpen(trx, context.schoolId, id, {
          status: 'dismissed',
          dismissed_reason: reason,
          false_positive: input.falsePositive ? 1 : 0,
          updated_at: now,
        });
        if (!moved) throw new AppError('CONFLICT', 'Someone else dealt with this alert meanwhile: open it again to see what they did.');
        // A false positive counts against each phrase that made it, so the DSL sees which phrases misfire.
        if (input.falsePositive && row.kind === 'phrase') await repository.addFalsePositives(trx, context.schoolId, JSON.parse(row.matched) as string[], now);
        await repository.insertAlertHistory(trx, {
          school_id: context.schoolId,
          alert_id: id,
          id: newId(),
          at: now,
          actor: actorName(context),
          kind: 'dismissed',
          note: `${input.falsePositive ? 'False positive: ' : ''}${reason}`,
        });
        await audit.record(context, 'monitor_alert.dismissed', { type: 'monitor_alert', id }, { falsePositive: input.falsePositive }, trx);
      });
    },

    async addNote(context: AuditContext, id: string, note: string): Promise<void> {
      const text = note.trim();
      if (!text) throw invalid('Write the note', [{ field: 'note', message: 'Write the note' }]);
      if (text.length > 5000)
        throw invalid('The note must be 5,000 characters or fewer', [{ field: 'note', message: 'The note must be 5,000 characters or fewer' }]);
      const row = await repository.findAlert(db, context.schoolId, id);
      if (!row || !canSeeAlert(context.actor, row)) throw notFound('alert');
      const now = isoNow(clock);
      await db.transaction().execute(async (trx) => {
        await repository.insertAlertHistory(trx, {
          school_id: context.schoolId,
          alert_id: id,
          id: newId(),
          at: now,
          actor: actorName(context),
          kind: 'note',
          note: text,
        });
        await repository.updateAlert(trx, context.schoolId, id, { updated_at: now });
        await audit.record(context, 'monitor_alert.noted', { type: 'monitor_alert', id }, {}, trx);
      });
    },

    /** What the escalation form suggests for an alert: the incident type, risk area and the person's role. */
    suggestionFor(theme: string) {
      return themeIncident[theme] ?? { type: 'inappropriate_website', riskArea: 'content' as const, role: 'instigator' as const };
    },

    /**
     * Escalates an alert into an incident through the incidents service, pre-filled with the evidence
     * (time, person, host, search term, category); the alert links to it, in the incident's transaction.
     */
    async escalate(
      context: AuditContext,
      id: string,
      input: { typeId: string; role: 'victim' | 'instigator' | 'witness' | 'affected' | 'other'; note: string },
    ): Promise<{ id: string; reference: string }> {
      const row = await repository.findAlert(db, context.schoolId, id);
      if (!row || !canSeeAlert(context.actor, row)) throw notFound('alert');
      if (row.status !== 'open') throw invalid(row.status === 'escalated' ? 'This alert is already an incident' : 'Only an open alert can be escalated');
      const categoryNames = new Map((await filtering.categories(context.schoolId)).map((category) => [category.code, category.name]));
      const person = row.person_id ? await people.get(context.schoolId, row.person_id) : null;
      const matched = JSON.parse(row.matched) as string[];
      const evidence = [
        `Monitoring alert ${row.reference}: ${themeLabel(row.theme, categoryNames)}, severity ${row.severity}.`,
        `When: ${row.first_at}${row.count > 1 ? ` to ${row.last_at} (${row.count} times)` : ''}.`,
        `Who: ${person ? person.displayName : `an unidentified user of device ${row.client}`} (filtering group ${row.group_code}).`,
        `Site: ${row.host}${row.category ? ` (category: ${categoryNames.get(row.category) ?? row.category})` : ''}.`,
        row.search_term ? `Search term: “${row.search_term}”.` : null,
        matched.length > 0 ? `Phrases matched: ${matched.join(', ')}.` : null,
      ]
        .filter(Boolean)
        .join('\n');
      const suggestion = service.suggestionFor(row.theme);
      const now = isoNow(clock);
      return incidents.report(
        context,
        {
          reporterName: `${actorName(context)} (from monitoring alert ${row.reference})`,
          occurredAt: row.first_at,
          location: 'School network (web monitoring)',
          device: `Device ${row.client}`,
          typeIds: [input.typeId],
          riskArea: suggestion.riskArea,
          people: person ? [{ personId: person.id, role: input.role, outsideName: '', outsideDescription: '' }] : [],
          whatHappened: evidence,
          immediateAction: input.note.trim() || 'Escalated from a monitoring alert.',
          urgent: row.severity >= 4,
          outOfSchool: false,
        },
        {
          source: 'monitoring',
          // An alert about a member of staff stays the headteacher's: the incident starts on the allegation route.
          visibility: row.about_staff === 1 ? 'allegation' : undefined,
          within: async (trx, incident) => {
            const moved = await repository.moveAlertFromOpen(trx, context.schoolId, id, { status: 'escalated', incident_id: incident.id, updated_at: now });
            // Rolls the incident back too: one alert never makes two incidents.
            if (!moved) throw new AppError('CONFLICT', 'Someone else dealt with this alert meanwhile: open it again to see what they did.');
            await repository.insertAlertHistory(trx, {
              school_id: context.schoolId,
              alert_id: id,
              id: newId(),
              at: now,
              actor: actorName(context),
              kind: 'escalated',
              note: `Escalated to incident ${incident.reference}${input.note.trim() ? `: ${input.note.trim()}` : ''}`,
            });
            await audit.record(context, 'monitor_alert.escalated', { type: 'monitor_alert', id }, { incident: incident.reference }, trx);
          },
        },
      );
    },

    /** Open alerts for the home page (counts only; alerts about staff counted for the headteacher alone). */
    async openAlertCounts(context: AuditContext) {
      return repository.openAlertCounts(db, context.schoolId, seesStaffAlerts(context.actor));
    },

    /** A person's alerts for their chronology (only those the reader may see). */
    async alertsOfPerson(context: AuditContext, personId: string) {
      if (!can(context.actor, 'monitoring.alerts')) return [];
      return repository.listAlerts(db, context.schoolId, { personId, includeStaff: seesStaffAlerts(context.actor) }, 500);
    },

    /** Sends the digest of alerts that were not urgent enough to notify at once. */
    async sendDigest(schoolId: string): Promise<number> {
      const pending = await repository.undigestedAlerts(db, schoolId);
      if (pending.length === 0) return 0;
      const recipients = await recipientsOf(schoolId);
      const now = isoNow(clock);
      const staff = pending.filter((alert) => alert.about_staff === 1).length;
      const pupils = pending.length - staff;
      const mails: Array<{ to: string; subject: string; text: string }> = [];
      await db.transaction().execute(async (trx) => {
        // Pupils' alerts to the DSLs and the e-safety lead; alerts about staff to the headteacher alone.
        for (const [count, to, about] of [
          [pupils, recipients.digest, ''],
          [staff, recipients.heads, ' about staff'],
        ] as const) {
          if (count === 0) continue;
          const alerts = count === 1 ? 'alert' : 'alerts';
          await notifications.notify(
            trx,
            schoolId,
            to.map((user) => user.id),
            { title: `${count} new monitoring ${alerts}${about} to review`, link: '/monitoring/alerts?status=open' },
          );
          for (const user of to)
            mails.push({
              to: user.email,
              subject: `Haven monitoring: ${count} new ${alerts}${about} to review`,
              text: `There ${count === 1 ? 'is 1 new monitoring alert' : `are ${count} new monitoring alerts`}${about} for you to review.\n\nOpen them here (you will need to sign in):\n${publicUrl}/monitoring/alerts?status=open`,
            });
        }
        await repository.markDigested(
          trx,
          schoolId,
          pending.map((alert) => alert.id),
          now,
        );
      });
      for (const mail of mails) await mailer.send({ schoolId, ...mail });
      return pending.length;
    },

    // --- Phrase lists ---

    async phraseList(schoolId: string) {
      const current = await ensurePhraseList(schoolId);
      const [versions, feedback] = await Promise.all([repository.phraseVersions(db, schoolId), repository.falsePositives(db, schoolId)]);
      return { current, versions, falsePositives: feedback };
    },

    async phraseListVersion(schoolId: string, version: number) {
      const row = await repository.phraseListVersion(db, schoolId, version);
      if (!row) throw notFound('phrase list version');
      return row;
    },

    /** Saves a new version of the phrase list; a list with errors is refused whole, each error with its line. */
    async savePhraseList(context: AuditContext, input: { text: string; note: string }): Promise<number> {
      const note = input.note.trim();
      if (!note) throw invalid('Say what changed', [{ field: 'note', message: 'Say what changed and why' }]);
      if (input.text.length > 2_000_000)
        throw invalid('The phrase list is too long (2 MB at most)', [{ field: 'text', message: 'The phrase list is too long' }]);
      const { entries, errors } = parsePhraseList(input.text);
      if (errors.length > 0)
        throw invalid(
          `The phrase list has ${errors.length} error${errors.length === 1 ? '' : 's'}`,
          errors.slice(0, 20).map((error) => ({ field: 'text', message: `Line ${error.line}: ${error.message}` })),
        );
      if (entries.length === 0) throw invalid('The phrase list has no entries', [{ field: 'text', message: 'Add at least one phrase' }]);
      const current = await ensurePhraseList(context.schoolId);
      const version = current.version + 1;
      await db.transaction().execute(async (trx) => {
        const inserted = await repository.insertPhraseList(trx, {
          school_id: context.schoolId,
          version,
          text: input.text,
          entries: entries.length,
          note: note.slice(0, 500),
          created_by: actorName(context),
          created_at: isoNow(clock),
        });
        if (!inserted) throw new AppError('CONFLICT', 'Someone else saved the phrase list meanwhile: open it again and make your change on theirs.');
        await audit.record(context, 'monitoring.phrases_saved', { type: 'phrase_list', id: String(version) }, { entries: entries.length }, trx);
      });
      return version;
    },

    // --- Reports ---

    /** Blocked attempts and alerts for a period (London days, "from" inclusive, "to" exclusive), for the head and DSL. */
    async report(context: AuditContext, period: { from: string; to: string }) {
      const schoolId = context.schoolId;
      const includeStaff = seesStaffAlerts(context.actor);
      // Days are the school's days: an alert at 00:30 BST belongs to that day.
      const fromAt = londonInstant(`${period.from}T00:00`);
      const toAt = londonInstant(`${period.to}T00:00`);
      const [byCategory, byHost, byGroup, byPerson, byDay, alertsByTheme, alertsBySeverity, searchHits, categories] = await Promise.all([
        repository.blockedBy(db, schoolId, 'category', period.from, period.to),
        repository.blockedBy(db, schoolId, 'host', period.from, period.to, 20),
        repository.blockedBy(db, schoolId, 'group_code', period.from, period.to),
        repository.blockedBy(db, schoolId, 'person_id', period.from, period.to, 10_000),
        repository.blockedBy(db, schoolId, 'day', period.from, period.to, 400),
        repository.alertsBy(db, schoolId, 'theme', fromAt, toAt, includeStaff),
        repository.alertsBy(db, schoolId, 'severity', fromAt, toAt, includeStaff),
        repository.listAlerts(db, schoolId, { includeStaff, from: fromAt, to: toAt }, 100),
        filtering.categories(schoolId),
      ]);
      const categoryNames = new Map(categories.map((category) => [category.code, category.name]));
      const named = await people.getMany(
        schoolId,
        byPerson.map((row) => row.person_id).filter((id): id is string => id !== null),
      );
      // Staff are named to the headteacher alone (their attempts are allegation material); others see
      // pupils and devices only.
      const visible = includeStaff ? byPerson : byPerson.filter((row) => !row.person_id || named.get(row.person_id)?.kind !== 'staff');
      // By class: each person's blocked attempts under their class (staff and devices on their own lines).
      const byClass = new Map<string, number>();
      for (const row of visible) {
        const person = row.person_id ? named.get(row.person_id) : undefined;
        const label = person ? (person.kind === 'pupil' ? (person.className ?? 'No class') : 'Staff and others') : 'Devices without a user name';
        byClass.set(label, (byClass.get(label) ?? 0) + Number(row.blocked));
      }
      await audit.record(context, 'monitoring.report_read', null, period);
      return {
        byCategory: byCategory.map((row) => ({
          label: row.category ? (categoryNames.get(row.category) ?? row.category) : 'Uncategorised',
          blocked: Number(row.blocked),
        })),
        byHost: byHost.map((row) => ({ label: row.host, blocked: Number(row.blocked) })),
        byGroup: byGroup.map((row) => ({ label: row.group_code, blocked: Number(row.blocked) })),
        byClass: [...byClass].map(([label, blocked]) => ({ label, blocked })).sort((a, b) => b.blocked - a.blocked),
        byPerson: visible.slice(0, 30).map((row) => ({
          label: row.person_id ? (named.get(row.person_id)?.displayName ?? 'Unknown person') : 'Devices without a user name',
          personId: row.person_id,
          blocked: Number(row.blocked),
        })),
        byDay: byDay.map((row) => ({ label: row.day, blocked: Number(row.blocked) })).sort((a, b) => a.label.localeCompare(b.label)),
        alertsByTheme: alertsByTheme.map((row) => ({ label: themeLabel(row.theme, categoryNames), alerts: Number(row.alerts), hits: Number(row.hits) })),
        alertsBySeverity: alertsBySeverity
          .map((row) => ({ label: String(row.severity), alerts: Number(row.alerts) }))
          .sort((a, b) => b.label.localeCompare(a.label)),
        searchHits: searchHits
          .filter((row) => row.search_term !== null)
          .map((row) => ({
            id: row.id,
            reference: row.reference,
            at: row.last_at,
            theme: themeLabel(row.theme, categoryNames),
            term: row.search_term!,
            count: row.count,
            severity: row.severity,
          })),
      };
    },

    /** The governors' version: counts only, no names, hosts or search terms; counts under 5 shown as "<5" (DESIGN.md). */
    async governorReport(context: AuditContext, period: { from: string; to: string }) {
      const schoolId = context.schoolId;
      // Days are the school's days: an alert at 00:30 BST belongs to that day.
      const fromAt = londonInstant(`${period.from}T00:00`);
      const toAt = londonInstant(`${period.to}T00:00`);
      const [byCategory, byGroup, alertsByTheme, alertsByStatus, categories] = await Promise.all([
        repository.blockedBy(db, schoolId, 'category', period.from, period.to),
        repository.blockedBy(db, schoolId, 'group_code', period.from, period.to),
        repository.alertsBy(db, schoolId, 'theme', fromAt, toAt, true),
        repository.alertsBy(db, schoolId, 'status', fromAt, toAt, true),
        filtering.categories(schoolId),
      ]);
      const categoryNames = new Map(categories.map((category) => [category.code, category.name]));
      const small = (value: number) => (value > 0 && value < 5 ? '<5' : String(value));
      await audit.record(context, 'monitoring.governor_report_read', null, period);
      return {
        byCategory: byCategory.map((row) => ({
          label: row.category ? (categoryNames.get(row.category) ?? row.category) : 'Uncategorised',
          blocked: small(Number(row.blocked)),
        })),
        byGroup: byGroup.map((row) => ({ label: row.group_code, blocked: small(Number(row.blocked)) })),
        alertsByTheme: alertsByTheme.map((row) => ({ label: themeLabel(row.theme, categoryNames), alerts: small(Number(row.alerts)) })),
        alertsByStatus: alertsByStatus.map((row) => ({ label: alertStatusLabels[row.status as AlertStatus] ?? row.status, alerts: small(Number(row.alerts)) })),
      };
    },

    /** Which sites a person visited, per day (from the daily counts), for the head and DSL. */
    async siteVisits(context: AuditContext, personId: string, period: { from: string; to: string }) {
      const person = await people.get(context.schoolId, personId);
      // A member of staff's browsing is the headteacher's to look into (as their alerts are).
      if (person.kind === 'staff' && !seesStaffAlerts(context.actor)) throw notFound('person');
      const rows = await repository.siteVisits(db, context.schoolId, personId, period.from, period.to);
      await audit.read(context, 'web_activity', personId);
      return { person, rows };
    },

    // --- Retention ---

    /** Raw events and daily counts older than the school's retention period go; alerts are safeguarding records and stay. */
    async purge(schoolId: string): Promise<{ events: number; days: number }> {
      const school = await schools.get(schoolId);
      const cutoff = new Date(clock().getTime() - school.settings.monitorRetentionDays * 86_400_000);
      return repository.purgeBefore(db, schoolId, cutoff.toISOString(), cutoff.toISOString().slice(0, 10));
    },

    async volumes(schoolId: string) {
      const [volumes, school, ingests] = await Promise.all([repository.volumes(db, schoolId), schools.get(schoolId), repository.ingests(db, schoolId, 10)]);
      return { ...volumes, retentionDays: school.settings.monitorRetentionDays, ingests };
    },
  };
  return service;
}

export type MonitoringService = ReturnType<typeof createMonitoringService>;
