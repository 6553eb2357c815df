import { randomUUID } from 'node:crypto';
import type { DatabaseHandle } from '../db/database.js';
import { newId } from '../db/helpers.js';

/**
 * The in-process jobs scheduler (DESIGN.md "Jobs"): expiring exceptions, reminders, purges. Each
 * job has a row in job_leases; a process runs a job only after taking its lease with one
 * conditional UPDATE, so two processes (or two timers) never run the same job at once. Every run is
 * recorded in job_runs with its outcome.
 */
export interface JobDefinition {
  name: string;
  /** How long after a run the job is next due. */
  everyMinutes: number;
  /** Does the work; returns a one-line summary for the run record. */
  run: (now: Date) => Promise<string>;
}

export interface JobRunOutcome {
  name: string;
  status: 'ok' | 'failed';
  summary: string;
}

/** A lease outlives any sane run, so a crashed holder's job is picked up again later. */
const leaseMinutes = 30;

export function createJobScheduler(deps: { handle: DatabaseHandle; clock: () => Date; onError?: (name: string, error: unknown) => void }) {
  const { handle, clock } = deps;
  const { db } = handle;
  const jobs = new Map<string, JobDefinition>();
  const holder = randomUUID();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function ensureRow(name: string): Promise<void> {
    await db
      .insertInto('job_leases')
      .values({ name, holder: null, lease_until: null, next_run_at: clock().toISOString() })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
  }

  /** Takes the lease if the job is due (or `force`) and nobody else holds it. */
  async function take(name: string, force: boolean): Promise<boolean> {
    await ensureRow(name);
    const now = clock().toISOString();
    let update = db
      .updateTable('job_leases')
      .set({ holder, lease_until: new Date(clock().getTime() + leaseMinutes * 60_000).toISOString() })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
    if (!force) update = update.where('next_run_at', '<=', now);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async function runJob(job: JobDefinition, force: boolean): Promise<JobRunOutcome | null> {
    if (!(await take(job.name, force))) return null;
    const runId = newId();
    const startedAt = clock();
    await db
      .insertInto('job_runs')
      .values({ id: runId, name: job.name, holder, started_at: startedAt.toISOString(), finished_at: null, status: 'running', summary: null })
      .execute();
    let outcome: JobRunOutcome;
    try {
      outcome = { name: job.name, status: 'ok', summary: await job.run(startedAt) };
    } catch (error) {
      deps.onError?.(job.name, error);
      outcome = { name: job.name, status: 'failed', summary: error instanceof Error ? error.message : String(error) };
    }
    await db
      .updateTable('job_runs')
      .set({ finished_at: clock().toISOString(), status: outcome.status, summary: outcome.summary.slice(0, 1000) })
      .where('id', '=', runId)
      .execute();
    await db
      .updateTable('job_leases')
      .set({ holder: null, lease_until: null, next_run_at: new Date(startedAt.getTime() + job.everyMinutes * 60_000).toISOString() })
      .where('name', '=', job.name)
      .where('holder', '=', holder)
      .execute();
    return outcome;
  }

  return {
    register(job: JobDefinition): void {
      if (jobs.has(job.name)) throw new Error(`Job ${job.name} is registered twice`);
      jobs.set(job.name, job);
    },

    names: () => [...jobs.keys()],

    /** Runs every job that is due and not held elsewhere, one after another. */
    async runDue(): Promise<JobRunOutcome[]> {
      const outcomes: JobRunOutcome[] = [];
      for (const job of jobs.values()) {
        const outcome = await runJob(job, false);
        if (outcome) outcomes.push(outcome);
      }
      return outcomes;
    },

    /** Runs one job now, whether due or not (`haven jobs run NAME`); null when another process holds it. */
    async runNow(name: string): Promise<JobRunOutcome | null> {
      const job = jobs.get(name);
      if (!job) throw new Error(`There is no job called "${name}". Jobs: ${[...jobs.keys()].join(', ')}`);
      return runJob(job, true);
    },

    async recentRuns(limit = 50) {
      return db.selectFrom('job_runs').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
    },

    /** Checks for due jobs every `intervalMs` in the background (the server does this; tests call runDue). */
    start(intervalMs = 60_000): void {
      if (timer) return;
      const tick = () => {
        running = running.then(() => this.runDue()).catch((error: unknown) => deps.onError?.('scheduler', error));
      };
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },

    /** Stops the timer and waits for a run in progress to finish. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type JobScheduler = ReturnType<typeof createJobScheduler>;
