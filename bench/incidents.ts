/**
 * Incident log benchmark: a school with 50,000 incidents (generated, fictional), then the median time
 * of the incident log's first page, a filtered page and a pupil's chronology, fetched through
 * app.inject() by a signed-in DSL, on SQLite and (when DATABASE_URL is set) PostgreSQL. The service
 * calls behind each page are timed too, so query time can be told from rendering time.
 * Target: each page under 50 ms median. Prints one JSON line of figures last.
 *
 * INCIDENTS (default 50000), RUNS (default 30) and WARMUP (default 5) change the size of the run.
 */
import { sql, type Insertable } from 'kysely';
import type { Dialect } from '../src/db/database.js';
import type { IncidentPersonTable, IncidentTable, IncidentTypeLinkTable } from '../src/db/schema.js';
import { newId } from '../src/db/helpers.js';
import { riskAreas, type PersonRole } from '../src/features/incidents/procedure.js';
import type { AuditContext } from '../src/platform/audit/service.js';
import { roleLabels } from '../src/platform/roles.js';
import { TestAgent } from '../test/support/agent.js';
import { buildTestHaven, type TestHaven } from '../test/support/app.js';
import { dialects } from '../test/support/database.js';
import { buildSchool, buildUser } from '../test/support/factories.js';

const incidentCount = Number(process.env.INCIDENTS ?? 50_000);
const runs = Number(process.env.RUNS ?? 30);
const warmup = Number(process.env.WARMUP ?? 5);
const pupilCount = 600;
const staffCount = 40;
const reporterAccounts = 6;
const chronologyIncidents = 60;
/** Rows per INSERT: 500 incidents × 29 columns stays well under SQLite's 32,766 and PostgreSQL's 65,535 bind parameters. */
const batchSize = 500;
/** Batches per transaction. */
const batchesPerTransaction = 10;
const targetMs = 50;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness, so every run (and both dialects) load the same school.

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = ReturnType<typeof mulberry32>;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function weighted<T>(random: Random, table: ReadonlyArray<readonly [T, number]>): T {
  const total = table.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of table) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return table[table.length - 1]![0];
}

// ---------------------------------------------------------------------------------------------
// Fictional names: everyday first names with made-up surnames built from syllables.

const firstNames = {
  F: [
    'Ada',
    'Bea',
    'Cara',
    'Della',
    'Esi',
    'Fern',
    'Gia',
    'Hana',
    'Iris',
    'Jada',
    'Kira',
    'Lena',
    'Mina',
    'Nell',
    'Orla',
    'Pia',
    'Rosa',
    'Suki',
    'Tess',
    'Vida',
  ],
  M: ['Abe', 'Ben', 'Cal', 'Dev', 'Eli', 'Finn', 'Gus', 'Hal', 'Ira', 'Jon', 'Kai', 'Leo', 'Milo', 'Ned', 'Omar', 'Pip', 'Rafe', 'Sol', 'Theo', 'Wes'],
} as const;
const surnameStarts = [
  'Ash',
  'Bram',
  'Cold',
  'Dun',
  'Elm',
  'Fen',
  'Glen',
  'Holl',
  'Ivy',
  'Kes',
  'Lark',
  'Marl',
  'Nor',
  'Oak',
  'Pen',
  'Quill',
  'Rook',
  'Sedge',
  'Thorn',
  'Wex',
];
const surnameEnds = ['by', 'combe', 'dale', 'field', 'ford', 'gate', 'ham', 'hurst', 'ley', 'mere', 'ridge', 'stow', 'ton', 'well', 'wick'];
const jobTitles = ['Class teacher', 'Teaching assistant', 'Year leader', 'SENCO', 'Computing lead', 'Office manager', 'Lunchtime supervisor', 'Site manager'];
const locations = ['Classroom', 'ICT suite', 'Library', 'Playground', 'Dining hall', 'Corridor', 'At home', 'School trip', 'Breakfast club'];
const devices = ['School laptop', 'School iPad', 'Own phone', 'Own tablet', 'Games console', 'Smart watch', 'Library PC'];
const happenings = [
  'A pupil reported upsetting messages in a group chat outside school.',
  'A search on a class laptop reached a site that the filter should have blocked.',
  'Unkind comments were posted under a pupil’s gaming profile.',
  'A pupil shared a login with a friend, who then changed their work.',
  'A pupil was contacted by an adult they did not know through an online game.',
  'Photos of pupils were posted on a social media account without consent.',
  'A pupil told a teacher about a video they had seen that frightened them.',
  'An email with a suspicious link was forwarded around a class.',
];
const actionsTaken = [
  'Spoke with the pupils involved and informed parents.',
  'Device collected and screen left untouched.',
  'Account reset and filter checked.',
  null,
];

// ---------------------------------------------------------------------------------------------
// The generator.

const statusRecent = [
  ['reported', 15],
  ['internal_track', 35],
  ['illegal_track', 5],
  ['debrief', 15],
  ['closed', 30],
] as const;
const statusOlder = [
  ['closed', 90],
  ['internal_track', 5],
  ['debrief', 2.5],
  ['reported', 1.5],
  ['illegal_track', 1],
] as const;
const severityMix = [
  ['low', 50],
  ['medium', 35],
  ['high', 15],
] as const;
const visibilityMix = [
  ['normal', 93],
  ['dsl_only', 5],
  ['allegation', 2],
] as const;
const roleMix: ReadonlyArray<readonly [PersonRole, number]> = [
  ['victim', 35],
  ['instigator', 30],
  ['witness', 15],
  ['affected', 15],
  ['other', 5],
];
const peopleCountMix = [
  [1, 40],
  [2, 40],
  [3, 20],
] as const;

interface School {
  schoolId: string;
  context: AuditContext;
  dsl: { email: string; password: string; totpSecret: string };
  pupils: string[];
  staff: string[];
  /** The pupil whose chronology is timed. */
  chronologyPupil: string;
}

async function createPeople(haven: TestHaven): Promise<School> {
  const { services } = haven;
  const { schoolId } = await buildSchool(services, 'Benchmark Primary School');
  const dslUser = await buildUser(services, schoolId, ['dsl'], { twoFactor: true, name: 'Bench DSL' });
  const context: AuditContext = {
    schoolId,
    actor: { kind: 'user', schoolId, userId: dslUser.userId, displayName: 'DSL', roles: ['dsl'] },
  };
  const random = mulberry32(1);
  const surname = () => `${pick(random, surnameStarts)}${pick(random, surnameEnds)}`;
  const pupils: string[] = [];
  const staff: string[] = [];
  const cache = new Map<string, string>();
  await services.handle.db.transaction().execute(async (trx) => {
    for (let i = 0; i < pupilCount; i += 1) {
      const yearGroup = i % 7; // Reception to Year 6, two classes each: 14 classes.
      const gender = random() < 0.5 ? 'F' : 'M';
      const person = await services.people.createPerson(
        trx,
        schoolId,
        {
          kind: 'pupil',
          legalFirstName: pick(random, firstNames[gender]),
          legalLastName: surname(),
          gender,
          yearGroup,
          className: `${yearGroup === 0 ? 'R' : yearGroup}${i % 14 < 7 ? 'K' : 'M'}`,
          dateOfBirth: `${2021 - yearGroup}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
          send: random() < 0.15,
          eal: random() < 0.2,
          misId: String(200_000 + i),
        },
        { schoolId },
        cache,
      );
      pupils.push(person.id);
    }
    for (let i = 0; i < staffCount; i += 1) {
      const gender = random() < 0.7 ? 'F' : 'M';
      const person = await services.people.createPerson(
        trx,
        schoolId,
        { kind: 'staff', legalFirstName: pick(random, firstNames[gender]), legalLastName: surname(), gender, jobTitle: pick(random, jobTitles) },
        { schoolId },
        cache,
      );
      staff.push(person.id);
    }
  });
  const dsl = { email: dslUser.email, password: dslUser.password, totpSecret: dslUser.totpSecret! };
  return { schoolId, context, dsl, pupils, staff, chronologyPupil: pupils[pupils.length - 1]! };
}

async function generateIncidents(haven: TestHaven, school: School): Promise<void> {
  const { services, clock } = haven;
  const { db } = services.handle;
  const { schoolId } = school;
  const random = mulberry32(2);
  const types = await services.incidents.typesFor(schoolId);
  const typeMix = types.map(
    (type) => [type.id, type.code === 'cyberbullying' || type.code === 'inappropriate_website' ? 8 : type.code === 'pupil_worry' ? 0.5 : 1] as const,
  );
  const reporters: Array<{ userId: string; name: string }> = [];
  for (let i = 0; i < reporterAccounts; i += 1) {
    const name = `${pick(random, firstNames.F)} ${pick(random, surnameStarts)}${pick(random, surnameEnds)}`;
    reporters.push({ userId: (await buildUser(services, schoolId, ['staff'], { name })).userId, name });
  }

  const now = clock().getTime();
  const day = 86_400_000;
  const span = 3 * 365 * day;
  const occurred = Array.from({ length: incidentCount }, () => now - Math.floor(random() * span)).sort((a, b) => a - b);
  // The timed pupil is in exactly `chronologyIncidents` incidents, spread over the three years; no others.
  const chronologyAt = new Set(Array.from({ length: chronologyIncidents }, (_, i) => Math.floor(((i + random()) * incidentCount) / chronologyIncidents)));
  const randomPupils = school.pupils.filter((id) => id !== school.chronologyPupil);
  const counters = new Map<number, number>();

  function incidentRow(index: number): {
    incident: Insertable<IncidentTable>;
    people: Insertable<IncidentPersonTable>[];
    links: Insertable<IncidentTypeLinkTable>[];
  } {
    const occurredAt = occurred[index]!;
    const createdAt = Math.min(now, occurredAt + 5 * 60_000 + Math.floor(random() * 2 * day));
    const year = new Date(createdAt).getUTCFullYear();
    const number = (counters.get(year) ?? 0) + 1;
    counters.set(year, number);
    const id = newId();
    const status = weighted(random, now - occurredAt < 30 * day ? statusRecent : statusOlder);
    const triaged = status !== 'reported';
    const illegal = !triaged ? null : status === 'illegal_track' || (status === 'closed' && random() < 0.02) ? 'yes' : 'no';
    const closedAt = status === 'closed' ? Math.min(now, createdAt + Math.floor(random() * 21 * day)) : null;
    const visibility = weighted(random, visibilityMix);
    const reporter = pick(random, reporters);

    const involved: Insertable<IncidentPersonTable>[] = [];
    const chosen = new Set<string>();
    const person = (personId: string | null, role: PersonRole) => {
      if (personId) chosen.add(personId);
      involved.push({
        school_id: schoolId,
        id: newId(),
        incident_id: id,
        person_id: personId,
        outside_name: personId ? null : 'Unknown online account',
        outside_description: personId ? null : 'A profile on a gaming platform',
        role,
      });
    };
    if (visibility === 'allegation') person(pick(random, school.staff), 'instigator');
    if (chronologyAt.has(index)) person(school.chronologyPupil, weighted(random, roleMix));
    const wanted = weighted(random, peopleCountMix);
    while (involved.length < wanted) {
      const kind = random();
      if (kind < 0.05) {
        person(null, 'instigator');
        continue;
      }
      const candidate = kind < 0.1 ? pick(random, school.staff) : pick(random, randomPupils);
      if (!chosen.has(candidate)) person(candidate, weighted(random, roleMix));
    }

    const typeIds = new Set([weighted(random, typeMix)]);
    if (random() < 0.3) typeIds.add(weighted(random, typeMix));

    return {
      incident: {
        school_id: schoolId,
        id,
        reference: `ES-${year}-${String(number).padStart(4, '0')}`,
        reported_by: reporter.userId,
        reporter_name: reporter.name,
        reporter_role: roleLabels.staff,
        source: random() < 0.95 ? 'web' : 'api',
        occurred_at: new Date(occurredAt).toISOString(),
        location: pick(random, locations),
        device: random() < 0.8 ? pick(random, devices) : null,
        risk_area: pick(random, riskAreas),
        what_happened: pick(random, happenings),
        immediate_action: pick(random, actionsTaken),
        urgent: random() < 0.05 ? 1 : 0,
        out_of_school: random() < 0.2 ? 1 : 0,
        status,
        severity: triaged ? weighted(random, severityMix) : null,
        illegal,
        police_advice: illegal === 'yes' ? 'Police advised: secure the device and await contact.' : null,
        visibility,
        // The headteacher shares some allegations with the DSL.
        dsl_granted: visibility === 'allegation' && random() < 0.3 ? 1 : 0,
        entered_illegal: illegal === 'yes' ? 1 : 0,
        entered_internal: triaged && illegal !== 'yes' ? 1 : 0,
        misuse_investigation: random() < 0.01 ? 1 : 0,
        second_senior_staff: illegal === 'yes' ? 'Headteacher' : null,
        lessons_learnt: closedAt === null ? null : 'Reminder given in the next online-safety lesson.',
        monitoring_note: random() < 0.05 ? 'Check in with the pupils at the end of term.' : null,
        closed_at: closedAt === null ? null : new Date(closedAt).toISOString(),
        created_at: new Date(createdAt).toISOString(),
        updated_at: new Date(closedAt ?? createdAt).toISOString(),
      },
      people: involved,
      links: [...typeIds].map((typeId) => ({ school_id: schoolId, incident_id: id, type_id: typeId })),
    };
  }

  const perTransaction = batchSize * batchesPerTransaction;
  for (let start = 0; start < incidentCount; start += perTransaction) {
    await db.transaction().execute(async (trx) => {
      for (let batch = start; batch < Math.min(incidentCount, start + perTransaction); batch += batchSize) {
        const rows = Array.from({ length: Math.min(batchSize, incidentCount - batch) }, (_, i) => incidentRow(batch + i));
        await trx
          .insertInto('incidents')
          .values(rows.map((row) => row.incident))
          .execute();
        await trx
          .insertInto('incident_people')
          .values(rows.flatMap((row) => row.people))
          .execute();
        await trx
          .insertInto('incident_type_links')
          .values(rows.flatMap((row) => row.links))
          .execute();
      }
    });
  }
  // Keep the reference counters in step, as report() would have left them.
  if (counters.size > 0)
    await db
      .insertInto('incident_counters')
      .values([...counters].map(([year, last]) => ({ school_id: schoolId, year, last })))
      .execute();
  // Fresh statistics for the planner. On PostgreSQL, VACUUM too (it includes ANALYZE): autovacuum
  // would have set the visibility map on a table this size by now, and must not start mid-measurement.
  if (services.handle.dialect === 'postgres') await sql`VACUUM ANALYZE`.execute(db);
  else await sql`ANALYZE`.execute(db);
}

// ---------------------------------------------------------------------------------------------
// Timing.

interface Figures {
  median: number;
  p95: number;
}

function figuresOf(timings: number[]): Figures {
  const sorted = [...timings].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p95: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]! };
}

async function measure(label: string, once: () => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < warmup; i += 1) await once();
  const timings: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await once();
    timings.push(performance.now() - started);
  }
  const figures = figuresOf(timings);
  console.log(`  ${label.padEnd(34)} median ${figures.median.toFixed(1).padStart(6)} ms   p95 ${figures.p95.toFixed(1).padStart(6)} ms`);
  return figures;
}

async function page(agent: TestAgent, url: string): Promise<void> {
  const response = await agent.get(url);
  if (response.statusCode !== 200) throw new Error(`GET ${url} answered ${response.statusCode}${response.location ? ` → ${response.location}` : ''}, not 200`);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function benchDialect(dialect: Dialect) {
  console.log(`${dialect}:`);
  const haven = await buildTestHaven(dialect);
  try {
    const peopleStarted = performance.now();
    const school = await createPeople(haven);
    const peopleMs = performance.now() - peopleStarted;
    const incidentsStarted = performance.now();
    await generateIncidents(haven, school);
    const incidentsMs = performance.now() - incidentsStarted;
    console.log(
      `  generated ${pupilCount} pupils and ${staffCount} staff in ${(peopleMs / 1000).toFixed(1)} s, ${incidentCount} incidents in ${(incidentsMs / 1000).toFixed(1)} s`,
    );

    const { incidents } = haven.services;
    const { context, chronologyPupil } = school;
    const filter = { status: 'internal_track', severity: 'high' };
    const first = await incidents.log(context, {}, 1);
    const filtered = await incidents.log(context, filter, 1);
    const chronology = await incidents.chronology(context, chronologyPupil);
    console.log(
      `  the DSL sees ${first.total} incidents (${first.rows.length} on the first page); ${filtered.total} match the filter; the chronology has ${chronology.entries.length} entries`,
    );
    if (first.rows.length !== Math.min(50, first.total) || chronology.entries.length === 0) throw new Error('The generated school does not look right');

    // The service calls behind each page: query time without routing or rendering.
    await measure('service: log, first page', () => incidents.log(context, {}, 1));
    await measure('service: log, filtered', () => incidents.log(context, filter, 1));
    await measure('service: chronology', () => incidents.chronology(context, chronologyPupil));

    const agent = new TestAgent(haven.app);
    await agent.signIn(school.dsl.email, school.dsl.password, school.dsl.totpSecret, haven.clock);
    await page(agent, '/account');
    const pages = {
      log_first_page_ms: await measure('GET /incidents', () => page(agent, '/incidents')),
      log_filtered_ms: await measure('GET /incidents?status=…&severity=…', () => page(agent, '/incidents?status=internal_track&severity=high')),
      chronology_ms: await measure('GET /people/:id/chronology', () => page(agent, `/people/${chronologyPupil}/chronology`)),
    };
    const slow = Object.entries(pages).filter(([, figures]) => figures.median >= targetMs);
    console.log(slow.length === 0 ? `  all under the ${targetMs} ms target` : `  OVER the ${targetMs} ms target: ${slow.map(([name]) => name).join(', ')}`);
    return Object.fromEntries(Object.entries(pages).map(([name, figures]) => [name, round(figures.median)]));
  } finally {
    await haven.close();
  }
}

// A page that does not answer 200 fails the run (after the other dialect has been tried): no JSON line.
const results: Record<string, Record<string, number>> = {};
const failures: string[] = [];
for (const dialect of dialects()) {
  try {
    results[dialect] = await benchDialect(dialect);
  } catch (error) {
    console.error(`  ${dialect} FAILED: ${error instanceof Error ? error.message : String(error)}`);
    failures.push(dialect);
  }
}
if (failures.length > 0) {
  console.error(`bench:incidents failed on ${failures.join(' and ')}`);
  process.exit(1);
}
console.log(JSON.stringify(results));
