import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { demoPassword, seedDemoSchool } from './features/demo/seed.js';
import { setUpSchool } from './features/setup/service.js';
import { AppError } from './platform/errors.js';
import { isRole, roles } from './platform/roles.js';
import { startServer } from './server.js';
import { createServices, type Services } from './services.js';
import { backupDatabase } from './platform/backup.js';
import { helperCommand } from './features/filtering/helper-main.js';
import type { IngestOutcome } from './features/monitoring/service.js';

/** Runs a command against a migrated database, closing it afterwards. */
async function withServices<T>(config: Config, run: (services: Services) => Promise<T>): Promise<T> {
  const handle = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(handle.db);
    const services = createServices({ config, handle });
    try {
      return await run(services);
    } finally {
      services.mailer.close();
    }
  } finally {
    await handle.close();
  }
}

async function schoolFor(services: Services, schoolId: string | undefined): Promise<string> {
  if (schoolId) return (await services.schools.get(schoolId)).id;
  const schools = await services.schools.list();
  if (schools.length === 1) return schools[0]!.id;
  if (schools.length === 0) throw new CliError('There is no school yet: run `haven setup` first');
  throw new CliError(`This Haven has ${schools.length} schools: choose one with --school (${schools.map((s) => `${s.id} ${s.name}`).join('; ')})`);
}

class CliError extends Error {}

async function readPassword(prompt: string): Promise<string> {
  if (process.env.HAVEN_PASSWORD) return process.env.HAVEN_PASSWORD;
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split('\n')[0]!.trim();
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

export function buildCli(): Command {
  const program = new Command('haven').description('Haven — online safety for schools').showHelpAfterError();

  program
    .command('serve')
    .description('run the web server (migrates the database first)')
    .action(async () => {
      const started = performance.now();
      const config = loadConfig();
      const running = await startServer(config, {
        onReady: async (services) => {
          if ((await services.schools.count()) === 0) console.log('No school yet: open Haven in a browser to set one up, or run `haven setup`.');
        },
      });
      console.log(`Haven is serving at ${running.url} (ready in ${Math.round(performance.now() - started)} ms)`);
      const stop = async () => {
        await running.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });

  program
    .command('migrate')
    .description('bring the database schema up to date')
    .action(async () => {
      const config = loadConfig();
      const handle = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const { applied } = await migrateToLatest(handle.db);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      } finally {
        await handle.close();
      }
    });

  program
    .command('setup')
    .description('create the school and the first headteacher account (the password is asked for, or read from HAVEN_PASSWORD or standard input)')
    .requiredOption('--school <name>', 'the school’s name')
    .option('--urn <urn>', 'the school’s 6-digit URN', '')
    .requiredOption('--head-name <name>', 'the headteacher’s full name')
    .requiredOption('--email <email>', 'the headteacher’s email address')
    .option('--add', 'add another school to an instance that already has one (a trust or local authority)')
    .action(async (options: { school: string; urn: string; headName: string; email: string; add?: boolean }) => {
      const config = loadConfig();
      const password = await readPassword('Password for the headteacher: ');
      await withServices(config, async (services) => {
        if (!options.add && (await services.schools.count()) > 0)
          throw new CliError('Haven already has a school. To add another school to this instance, run again with --add.');
        const { school } = await setUpSchool(
          services,
          { schoolName: options.school, urn: options.urn, headName: options.headName, headEmail: options.email, password },
          { allowWhenSchoolsExist: Boolean(options.add) },
        );
        console.log(
          `Created ${school.name} (${school.id}). Sign in at ${config.publicUrl}/sign-in as ${options.email}: you will set up two-factor sign-in first.`,
        );
      });
    });

  program
    .command('demo')
    .description('run Haven on embedded SQLite with a fictional demo school to explore')
    .action(async () => {
      const started = performance.now();
      const env = { ...process.env, HAVEN_DATA_DIR: process.env.HAVEN_DATA_DIR ?? join('data', 'demo') };
      const config = loadConfig(env);
      let summary = '';
      const running = await startServer(config, {
        logger: false,
        onReady: async (services) => {
          const existing = (await services.schools.list()).find((school) => school.isDemo);
          if (existing) {
            summary = `Using the demo school already in ${config.dataDir}.`;
            return;
          }
          console.log('Creating the demo school (a few seconds)…');
          const demo = await seedDemoSchool(services);
          summary = `Demo school: ${demo.counts.pupils} pupils, ${demo.counts.staff} staff, ${demo.counts.parents} parents and carers, ${demo.counts.governors} governors.`;
        },
      });
      console.log(`\nHaven demo is running at ${running.url}  (ready in ${Math.round(performance.now() - started)} ms)`);
      console.log(summary);
      console.log(`\nSign in with any of these (password: ${demoPassword}):`);
      for (const [email, description] of [
        ['head@demo.haven.test', 'Headteacher'],
        ['dsl@demo.haven.test', 'Designated safeguarding lead'],
        ['esafety@demo.haven.test', 'E-safety lead'],
        ['technician@demo.haven.test', 'Technician'],
        ['teacher@demo.haven.test', 'Class teacher'],
        ['governor@demo.haven.test', 'Chair of governors'],
      ]) {
        console.log(`  ${email!.padEnd(28)} ${description}`);
      }
      console.log('Two-factor accounts: in the demo school the current code is shown on the code page.\nPress Ctrl+C to stop.');
      process.once('SIGINT', () => void running.close().then(() => process.exit(0)));
      process.once('SIGTERM', () => void running.close().then(() => process.exit(0)));
    });

  const importCommand = program.command('import').description('import records');
  importCommand
    .command('people')
    .description('import pupils or staff from an MIS CSV export (SIMS- or Arbor-style headings)')
    .argument('<file>', 'the CSV file')
    .addOption(new Option('--kind <kind>', 'what the file lists').choices(['pupil', 'staff']).default('pupil'))
    .option('--school <id>', 'the school (needed when there are several)')
    .option('--dry-run', 'report what would change; write nothing')
    .option('--valid-only', 'import the valid rows even if some rows have problems')
    .option('--keep-missing', 'do not mark people missing from the file as left')
    .action(async (file: string, options: { kind: 'pupil' | 'staff'; school?: string; dryRun?: boolean; validOnly?: boolean; keepMissing?: boolean }) => {
      const config = loadConfig();
      const csv = readFileSync(resolve(file), 'utf8');
      await withServices(config, async (services) => {
        const schoolId = await schoolFor(services, options.school);
        const context = { schoolId, actor: undefined, ip: undefined };
        const started = await services.people.startImport(schoolId, { kind: options.kind, fileName: file, csv }, context);
        const preview = options.keepMissing
          ? await services.people.remapImport(
              schoolId,
              started.importId,
              Object.fromEntries(Object.entries(started.mapping).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])),
              false,
            )
          : started;
        if (preview.fileError) throw new CliError(preview.fileError);
        for (const problem of preview.problems) console.log(`row ${problem.row}, column "${problem.column}": ${problem.reason}`);
        const plan = preview.plan!;
        console.log(
          `${preview.dataRows} rows: ${preview.problems.length ? `${preview.dataRows - preview.validRows} with problems; ` : ''}${plan.creates.length} new, ${plan.changes.length} changed, ${plan.unchanged} unchanged, ${plan.leavers.length} to mark as left.`,
        );
        if (options.dryRun) return console.log('Dry run: nothing was written.');
        if (preview.problems.length && !options.validOnly) {
          process.exitCode = 1;
          return console.log('Nothing was written: fix the rows above, or run again with --valid-only.');
        }
        const outcome = await services.people.applyImport(schoolId, preview.importId, { validOnly: Boolean(options.validOnly) }, context);
        console.log(
          `Imported: ${outcome.created} added, ${outcome.changed} changed, ${outcome.unchanged} unchanged, ${outcome.markedLeft} marked as left${outcome.skippedRows ? `, ${outcome.skippedRows} rows skipped` : ''}.`,
        );
      });
    });

  program
    .command('ingest')
    .description('read a web-activity log (plain or gzip) into monitoring, from where it was last read; --follow keeps reading as it grows and across rotation')
    .argument('<file>', 'the log file')
    .addOption(new Option('--format <format>', 'the log format').choices(['squid', 'e2guardian', 'haven']).makeOptionMandatory())
    .option('--school <id>', 'the school (needed when there are several)')
    .option('--follow', 'keep reading as the file grows; when it is renamed, finish it and start on the new file (stop with Ctrl-C)')
    .action(async (file: string, options: { format: 'squid' | 'e2guardian' | 'haven'; school?: string; follow?: boolean }) => {
      const config = loadConfig();
      await withServices(config, async (services) => {
        const schoolId = await schoolFor(services, options.school);
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        const print = (outcome: IngestOutcome) =>
          console.log(
            `${outcome.lines} lines read (${outcome.skipped} already stored): ${outcome.events} events (${outcome.blocked} blocked, ${outcome.searches} searches), ${outcome.alerts} new alerts, ${outcome.bad} lines not understood.`,
          );
        const outcome = await services.monitoring.ingestFile(
          { schoolId, actor: undefined, ip: undefined },
          { format: options.format, path: resolve(file), follow: Boolean(options.follow), signal: stop.signal, onProgress: options.follow ? print : undefined },
        );
        for (const sample of outcome.badSamples) console.log(`line ${sample.line}: ${sample.reason}: ${sample.text}`);
        print(outcome);
      });
    });

  program
    .command('backup')
    .description('make a consistent copy of the database while Haven runs')
    .option('--out <file>', 'where to write the copy (SQLite)')
    .action(async (options: { out?: string }) => {
      const config = loadConfig();
      const message = await backupDatabase(config, options.out);
      console.log(message);
    });

  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description('check every hash link of the audit trail; report the first broken one')
    .action(async () => {
      const config = loadConfig();
      await withServices(config, async (services) => {
        const result = await services.audit.verify();
        if (result.ok) {
          console.log(`Audit trail intact: ${result.checked} events checked.`);
        } else {
          process.exitCode = 1;
          console.log(
            `Audit trail BROKEN at school ${result.broken!.schoolId}, event ${result.broken!.seq}: ${result.broken!.reason}. ${result.checked} events before it are intact.`,
          );
        }
      });
    });

  const jobs = program.command('jobs').description('background jobs (the server runs them on its own; these run them by hand)');
  jobs
    .command('list')
    .description('list the jobs and their latest runs')
    .action(async () => {
      const config = loadConfig();
      await withServices(config, async (services) => {
        const runs = await services.jobs.recentRuns(200);
        for (const name of services.jobs.names()) {
          const last = runs.find((run) => run.name === name);
          console.log(`${name}: ${last ? `last run ${last.started_at} (${last.status}) — ${last.summary ?? ''}` : 'not run yet'}`);
        }
      });
    });
  jobs
    .command('run')
    .description('run a job now, whether it is due or not')
    .argument('<name>', 'the job (see `haven jobs list`)')
    .action(async (name: string) => {
      const config = loadConfig();
      await withServices(config, async (services) => {
        if (!services.jobs.names().includes(name)) throw new CliError(`There is no job called "${name}": use one of ${services.jobs.names().join(', ')}`);
        const outcome = await services.jobs.runNow(name);
        if (!outcome) throw new CliError(`${name} is running in another process right now; try again later`);
        if (outcome.status === 'failed') process.exitCode = 1;
        console.log(`${name}: ${outcome.status} — ${outcome.summary}`);
      });
    });

  program.addCommand(helperCommand());

  const user = program.command('user').description('manage accounts');
  user
    .command('create')
    .description('create an account and send (or print) its invitation link')
    .requiredOption('--email <email>', 'their email address')
    .requiredOption('--name <name>', 'their full name')
    .requiredOption('--role <role...>', `one or more of: ${roles.join(', ')}`)
    .option('--school <id>', 'the school (needed when there are several)')
    .action(async (options: { email: string; name: string; role: string[]; school?: string }) => {
      const config = loadConfig();
      const unknown = options.role.filter((role) => !isRole(role));
      if (unknown.length) throw new CliError(`Unknown role ${unknown.join(', ')}: use ${roles.join(', ')}`);
      await withServices(config, async (services) => {
        const schoolId = await schoolFor(services, options.school);
        const { link } = await services.users.invite(
          schoolId,
          { displayName: options.name, email: options.email, roles: options.role.filter(isRole) },
          { schoolId },
        );
        console.log(
          services.mailer.configured ? `Invitation emailed to ${options.email}.` : `Invitation link for ${options.email} (works once, for 7 days):\n${link}`,
        );
      });
    });
  for (const [name, description] of [
    ['disable', 'disable an account and end its sessions at once'],
    ['enable', 'enable a disabled account'],
    ['reset-2fa', 'clear an account’s authenticator (lost phone); it enrols again at next sign-in'],
  ] as const) {
    user
      .command(name)
      .description(description)
      .requiredOption('--email <email>', 'the account’s email address')
      .action(async (options: { email: string }) => {
        const config = loadConfig();
        await withServices(config, async (services) => {
          const found = await services.users.findByEmail(options.email);
          if (!found) throw new CliError(`No account has the email address ${options.email}`);
          const context = { schoolId: found.schoolId };
          if (name === 'disable') await services.users.disable(found.schoolId, found.id, context);
          else if (name === 'enable') await services.users.enable(found.schoolId, found.id, context);
          else await services.users.resetTwoFactor(found.schoolId, found.id, context);
          console.log(`Done: ${name} ${options.email}.`);
        });
      });
  }
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CliError || error instanceof AppError) {
      console.error(
        error instanceof AppError && error.fields.length
          ? `${error.message}: ${error.fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`
          : error.message,
      );
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

await runCli(process.argv);
