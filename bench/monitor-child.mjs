// Measurements for bench/monitor.ts that run in plain Node over the compiled code (dist/), each in a
// fresh process:
//   parse-match SNAPSHOT PHRASES PEOPLE LOG  parse, classify every line, search terms, phrases; no storage and no traffic counts; one core
//   setup WORKDIR                            a school through the services: networks, people, phrase
//                                            list, the category lists (timed), a compile
//   ingest SCHOOL LOG                        services.monitoring.ingestFile over the whole log, timed
// setup and ingest read HAVEN_DATA_DIR and DATABASE_URL (PostgreSQL when set) from the environment.
// Each prints one JSON object on stdout.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

const [mode, ...args] = process.argv.slice(2);
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
const benchSecret = 'bench-secret-bench-secret-bench-secret-0123456789';

if (mode === 'parse-match') {
  const [snapshotPath, phrasesPath, peoplePath, logPath] = args;
  const { FilterEngine, loadSnapshot } = await import('../dist/features/filtering/engine.js');
  const { PhraseMatcher, parsePhraseList } = await import('../dist/features/monitoring/phrases.js');
  const { Pipeline } = await import('../dist/features/monitoring/pipeline.js');
  const { LineSplitter } = await import('../dist/features/monitoring/parse.js');
  const { schoolSettingsSchema } = await import('../dist/platform/schools/service.js');
  const loadStarted = performance.now();
  const engine = new FilterEngine(loadSnapshot(readFileSync(snapshotPath)));
  const matcher = new PhraseMatcher(parsePhraseList(readFileSync(phrasesPath, 'utf8')).entries);
  const people = JSON.parse(readFileSync(peoplePath, 'utf8'));
  const users = new Map(people.map((person, index) => [person.networkUsername.toLowerCase(), { personId: `person-${index}`, staff: person.kind === 'staff' }]));
  const settings = schoolSettingsSchema.parse({});
  const pipeline = new Pipeline({
    format: 'squid',
    engine,
    matcher,
    timeZone: 'Europe/London',
    users,
    thresholds: settings.monitorGroupThresholds,
    defaultThreshold: settings.monitorThreshold,
    watchedCategories: settings.monitorWatchedCategories,
    countTraffic: false,
  });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  let hits = 0;
  let phraseHits = 0;
  const take = () => {
    // What storage would take, every 250,000 lines (as the service commits), dropped here.
    const taken = pipeline.drain();
    hits += taken.hits.length;
    for (const hit of taken.hits) if (hit.kind === 'phrase') phraseHits += 1;
  };
  const splitter = new LineSplitter((bytes, start, end, lineNumber) => {
    pipeline.push(bytes, start, end, lineNumber);
    if (lineNumber % 250_000 === 0) take();
  });
  const file = openSync(logPath, 'r');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const started = performance.now();
  for (;;) {
    const bytesRead = readSync(file, buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    splitter.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
  }
  splitter.flush();
  take();
  const seconds = (performance.now() - started) / 1000;
  closeSync(file);
  process.stdout.write(
    JSON.stringify({
      seconds,
      lines: pipeline.lines,
      linesPerSecond: pipeline.lines / seconds,
      bad: pipeline.bad,
      events: pipeline.events,
      searches: pipeline.searches,
      blocked: pipeline.blocked,
      hits,
      phraseHits,
      loadSeconds,
      maxRssMb: maxRssMb(),
    }),
  );
} else if (mode === 'setup' || mode === 'ingest') {
  const { loadConfig } = await import('../dist/config.js');
  const { openDatabase } = await import('../dist/db/database.js');
  const { migrateToLatest } = await import('../dist/db/migrate.js');
  const { createServices } = await import('../dist/services.js');
  const config = loadConfig({
    NODE_ENV: 'production',
    HAVEN_SECRET: benchSecret,
    HAVEN_DATA_DIR: process.env.HAVEN_DATA_DIR,
    PUBLIC_URL: 'https://haven.bench.example',
    DATABASE_URL: process.env.DATABASE_URL,
  });
  const handle = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrateToLatest(handle.db);
  const services = createServices({ config, handle });
  try {
    if (mode === 'setup') await setup(services, args[0]);
    else await ingest(services, args[0], args[1]);
  } finally {
    services.mailer.close();
    await handle.close();
  }
} else {
  console.error('usage: monitor-child.mjs parse-match SNAPSHOT PHRASES PEOPLE LOG | setup WORKDIR | ingest SCHOOL LOG');
  process.exit(2);
}

async function setup(services, dir) {
  const { setUpSchool } = await import('../dist/features/setup/service.js');
  const { catalogue } = await import('../dist/features/filtering/catalogue.js');
  const { school } = await setUpSchool(services, {
    schoolName: 'Fernbrook Academy (benchmark)',
    urn: '',
    headName: 'Robin Ashdown',
    headEmail: 'head@fernbrook.bench.example',
    password: 'correct-horse-battery-staple',
  });
  const context = { schoolId: school.id };
  // Address ranges first: each change recompiles the snapshot, which is cheap before the lists are in.
  const ranges = [
    ['10.1.0.0/16', 'all_staff:staff', 'Staff laptops'],
    ['10.2.0.0/16', 'key_stage:EYFS', 'Early years tablets'],
    ['10.3.0.0/16', 'key_stage:KS1', 'Key stage 1'],
    ['10.4.0.0/16', 'key_stage:KS2', 'Key stage 2'],
    ['10.5.0.0/16', 'guests:guests', 'Guest Wi-Fi'],
  ];
  // The policies exist once the filtering defaults are set up (the policies page does that; addNetwork does not).
  await services.filtering.policies(school.id);
  for (const [cidr, groupCode, label] of ranges) await services.filtering.addNetwork(context, { cidr, groupCode, label });

  // Everyone in one transaction, as an MIS import would (createPerson with a shared group cache).
  const people = JSON.parse(readFileSync(join(dir, 'people.json'), 'utf8'));
  let started = performance.now();
  await services.handle.db.transaction().execute(async (trx) => {
    const cache = new Map();
    for (const person of people) await services.people.createPerson(trx, school.id, person, context, cache);
  });
  const peopleSeconds = (performance.now() - started) / 1000;

  await services.monitoring.savePhraseList(context, { text: readFileSync(join(dir, 'phrases.list'), 'utf8'), note: 'Benchmark phrase list' });

  started = performance.now();
  for (const category of catalogue) {
    const domains = readFileSync(join(dir, 'lists', `${category.code}.txt`), 'utf8')
      .split('\n')
      .filter(Boolean);
    await services.filtering.addCategoryList(
      context,
      { name: `Benchmark ${category.name}`, category: category.code, source: null, format: 'domains' },
      { domains, urls: [] },
    );
  }
  const listSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const compiled = await services.filtering.compile(school.id);
  const compileSeconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ schoolId: school.id, peopleSeconds, listSeconds, compileSeconds, domains: compiled.domains, maxRssMb: maxRssMb() }));
}

async function ingest(services, schoolId, logPath) {
  const db = services.handle.db;
  // What `haven ingest` does before its first line: compile the snapshot, build the phrase matcher. Not timed.
  let started = performance.now();
  await services.filtering.engineFor(schoolId);
  await services.monitoring.matcherFor(schoolId);
  const warmSeconds = (performance.now() - started) / 1000;
  let peakRssDuring = 0;
  const sampler = setInterval(() => {
    peakRssDuring = Math.max(peakRssDuring, process.memoryUsage.rss());
  }, 50);
  started = performance.now();
  const outcome = await services.monitoring.ingestFile({ schoolId }, { format: 'squid', path: logPath });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const stored = {};
  for (const table of ['web_events', 'web_activity', 'monitor_alerts', 'notifications', 'outbox']) {
    const row = await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirst();
    stored[table] = Number(row?.n ?? 0);
  }
  process.stdout.write(
    JSON.stringify({
      seconds,
      warmSeconds,
      linesPerSecond: outcome.lines / seconds,
      outcome: { lines: outcome.lines, bad: outcome.bad, events: outcome.events, searches: outcome.searches, blocked: outcome.blocked, alerts: outcome.alerts },
      stored,
      maxRssMb: maxRssMb(),
      peakRssDuringMb: peakRssDuring / 1024 / 1024,
    }),
  );
}
