import type { AuditContext } from '../../platform/audit/service.js';
import type { Role } from '../../platform/roles.js';
import { londonInstant } from '../../platform/time.js';
import type { Services } from '../../services.js';
import { setUpSchool } from '../setup/service.js';

/**
 * The demo school: fictional people only (names drawn at random from common first names and
 * surnames; addresses under the reserved .test domain). Deterministic for a given seed.
 */

const firstNames = [
  'Amelia',
  'Oliver',
  'Isla',
  'George',
  'Ava',
  'Noah',
  'Mia',
  'Arthur',
  'Ivy',
  'Leo',
  'Freya',
  'Oscar',
  'Lily',
  'Theo',
  'Florence',
  'Harry',
  'Willow',
  'Jack',
  'Rosie',
  'Charlie',
  'Sophia',
  'Finley',
  'Isabella',
  'Henry',
  'Grace',
  'Alfie',
  'Ella',
  'Jacob',
  'Evie',
  'Thomas',
  'Poppy',
  'Muhammad',
  'Aisha',
  'Yusuf',
  'Zara',
  'Ibrahim',
  'Maryam',
  'Arjun',
  'Priya',
  'Kofi',
  'Amara',
  'Tomasz',
  'Zofia',
  'Mateo',
  'Lucia',
  'Ravi',
  'Nia',
  'Dylan',
  'Erin',
  'Reuben',
  'Sienna',
  'Elijah',
  'Hallie',
  'Ezra',
  'Maisie',
  'Louis',
  'Phoebe',
  'Stanley',
  'Harper',
  'Bobby',
  'Esme',
];
const womenFirstNames = [
  'Claire',
  'Sarah',
  'Rachel',
  'Emma',
  'Helen',
  'Laura',
  'Nicola',
  'Joanne',
  'Fatima',
  'Sunita',
  'Grace',
  'Agnieszka',
  'Chloe',
  'Hannah',
  'Kerry',
];
const menFirstNames = [
  'David',
  'James',
  'Mark',
  'Paul',
  'Andrew',
  'Richard',
  'Stephen',
  'Gareth',
  'Imran',
  'Deepak',
  'Samuel',
  'Piotr',
  'Daniel',
  'Matthew',
  'Lee',
];
const adultFirstNames = [...womenFirstNames, ...menFirstNames];
const surnames = [
  'Ashworth',
  'Bramley',
  'Carrow',
  'Dunmore',
  'Ellery',
  'Fenwick',
  'Garside',
  'Hollins',
  'Ingham',
  'Jessop',
  'Kettering',
  'Lambeth',
  'Marsden',
  'Northam',
  'Oakley',
  'Pennick',
  'Quarry',
  'Rudd',
  'Stanway',
  'Thursby',
  'Underhill',
  'Varley',
  'Whitcombe',
  'Yardley',
  'Ahmed',
  'Begum',
  'Chowdhury',
  'Dasgupta',
  'Okafor',
  'Mensah',
  'Nowak',
  'Kowalczyk',
  'Santos',
  'Rossi',
  'Patel',
  'Shah',
  'Evans',
  'Hughes',
  'Lloyd',
  'Moss',
];

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const demoPassword = 'calm-harbour-lantern';
export const demoDomain = 'demo.haven.test';

export interface DemoAccount {
  email: string;
  roles: Role[];
  description: string;
}

export interface DemoSchool {
  schoolId: string;
  accounts: DemoAccount[];
  counts: { pupils: number; staff: number; parents: number; governors: number };
}

interface StaffSeed {
  first: string;
  last: string;
  jobTitle: string;
  account?: { roles: Role[]; description: string; local: string };
  post?: string[];
}

export async function seedDemoSchool(services: Services, options: { seed?: number; schoolName?: string } = {}): Promise<DemoSchool> {
  const next = random(options.seed ?? 20261123);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const schoolName = options.schoolName ?? 'Harbourside Primary School (demo)';
  const headEmail = `head@${demoDomain}`;

  const { school, userId: headId } = await setUpSchool(
    services,
    { schoolName, urn: '', headName: 'Morgan Ellery', headEmail, password: demoPassword },
    { allowWhenSchoolsExist: true, isDemo: true },
  );
  const schoolId = school.id;
  await services.auth.enrolSecret(services.handle.db, schoolId, headId, demoTotpSecret);
  const context: AuditContext = { schoolId };
  const accounts: DemoAccount[] = [
    { email: headEmail, roles: ['headteacher', 'staff'], description: 'Headteacher (two-factor: the code is shown on the sign-in page in the demo)' },
  ];

  const staff: StaffSeed[] = [
    {
      first: 'Priya',
      last: 'Dasgupta',
      jobTitle: 'Deputy headteacher and DSL',
      account: { roles: ['dsl', 'staff'], description: 'Designated safeguarding lead (two-factor)', local: 'dsl' },
      post: ['dsl'],
    },
    {
      first: 'Gareth',
      last: 'Lloyd',
      jobTitle: 'Assistant headteacher (inclusion) and SENCO',
      account: { roles: ['deputy_dsl', 'staff'], description: 'Deputy DSL (two-factor)', local: 'deputy' },
      post: ['deputy_dsl'],
    },
    {
      first: 'Hannah',
      last: 'Whitcombe',
      jobTitle: 'Computing lead and e-safety coordinator',
      account: { roles: ['esafety_lead', 'staff'], description: 'E-safety lead (two-factor)', local: 'esafety' },
      post: ['esafety_lead'],
    },
    {
      first: 'Lee',
      last: 'Varley',
      jobTitle: 'IT technician',
      account: { roles: ['technician'], description: 'Technician', local: 'technician' },
      post: ['network_manager'],
    },
    { first: 'Joanne', last: 'Hollins', jobTitle: 'School business manager', post: ['siro', 'iao'] },
    { first: 'Kerry', last: 'Marsden', jobTitle: 'Office manager' },
    { first: 'Samuel', last: 'Okafor', jobTitle: 'Site manager' },
  ];
  const years = [0, 1, 2, 3, 4, 5, 6];
  const classNames: Array<{ year: number; name: string }> = years.flatMap((year) => [
    { year, name: `${year === 0 ? 'R' : year}K` },
    { year, name: `${year === 0 ? 'R' : year}M` },
  ]);
  classNames.forEach((klass, index) => {
    const first = pick(adultFirstNames);
    const last = pick(surnames);
    staff.push({
      first,
      last,
      jobTitle: `Class teacher, ${klass.name}`,
      ...(index === 6 ? { account: { roles: ['staff'], description: 'Class teacher', local: 'teacher' } } : {}),
    });
  });
  for (let i = 0; i < 12; i += 1) staff.push({ first: pick(adultFirstNames), last: pick(surnames), jobTitle: 'Teaching assistant' });
  staff.push({ first: 'Nicola', last: 'Stanway', jobTitle: 'Midday supervisor' });
  staff.push({ first: 'Daniel', last: 'Ashworth', jobTitle: 'Sports coach' });
  staff.push({ first: 'Chloe', last: 'Fenwick', jobTitle: 'Family support worker' });

  const governors = [
    { first: 'Richard', last: 'Northam', post: 'chair_of_governors', account: true },
    { first: 'Sunita', last: 'Shah', post: 'esafety_governor', account: false },
    { first: 'Paul', last: 'Garside', post: null, account: false },
    { first: 'Agnieszka', last: 'Nowak', post: null, account: false },
    { first: 'Mark', last: 'Thursby', post: null, account: false },
  ];

  const counts = { pupils: 0, staff: 1, parents: 0, governors: governors.length };
  await services.handle.db.transaction().execute(async (trx) => {
    const cache = new Map<string, string>();
    let staffNumber = 100;
    for (const member of staff) {
      staffNumber += 1;
      const email = member.account ? `${member.account.local}@${demoDomain}` : `${member.first}.${member.last}${staffNumber}@${demoDomain}`.toLowerCase();
      const person = await services.people.createPerson(
        trx,
        schoolId,
        {
          kind: 'staff',
          legalFirstName: member.first,
          legalLastName: member.last,
          jobTitle: member.jobTitle,
          email,
          misId: `S${staffNumber}`,
          startDate: '2019-09-01',
        },
        context,
        cache,
      );
      counts.staff += 1;
      if (member.account) {
        const userId = await services.users.createWithPassword(
          trx,
          schoolId,
          { displayName: `${member.first} ${member.last}`, email, roles: member.account.roles, personId: person.id, password: demoPassword },
          context,
        );
        accounts.push({ email, roles: member.account.roles, description: member.account.description });
        if (member.account.roles.some((role) => ['dsl', 'deputy_dsl', 'esafety_lead'].includes(role))) {
          await services.auth.enrolSecret(trx, schoolId, userId, demoTotpSecret);
        }
      }
      for (const post of member.post ?? []) {
        await services.people.assignPost(
          trx,
          schoolId,
          { post, personId: person.id, name: `${member.first} ${member.last}`, contact: post === 'network_manager' ? 'IT office, ext. 214' : 'School office' },
          context,
        );
      }
    }
    for (const governor of governors) {
      const email = `${governor.first}.${governor.last}@${demoDomain}`.toLowerCase();
      const person = await services.people.createPerson(
        trx,
        schoolId,
        {
          kind: 'governor',
          legalFirstName: governor.first,
          legalLastName: governor.last,
          jobTitle: governor.post === 'chair_of_governors' ? 'Chair of governors' : 'Governor',
          email,
        },
        context,
        cache,
      );
      if (governor.post)
        await services.people.assignPost(
          trx,
          schoolId,
          { post: governor.post, personId: person.id, name: `${governor.first} ${governor.last}`, contact: 'Via the school office' },
          context,
        );
      if (governor.account) {
        await services.users.createWithPassword(
          trx,
          schoolId,
          {
            displayName: `${governor.first} ${governor.last}`,
            email: `governor@${demoDomain}`,
            roles: ['governor'],
            personId: person.id,
            password: demoPassword,
          },
          context,
        );
        accounts.push({ email: `governor@${demoDomain}`, roles: ['governor'], description: 'Chair of governors' });
      }
    }

    let admission = 4000;
    const thisYear = services.clock().getUTCFullYear();
    let previousFamily: { parents: string[]; surname: string } | null = null;
    for (const klass of classNames) {
      const size = 21 + Math.floor(next() * 2);
      for (let i = 0; i < size; i += 1) {
        admission += 1;
        // About one pupil in eight is a younger sibling of the pupil before, sharing parents.
        const sibling: { parents: string[]; surname: string } | null = previousFamily && next() < 0.12 ? previousFamily : null;
        const surname: string = sibling?.surname ?? pick(surnames);
        const birthYear = thisYear - 5 - klass.year;
        const month = 1 + Math.floor(next() * 12);
        const dayOfMonth = 1 + Math.floor(next() * 28);
        const pupil = await services.people.createPerson(
          trx,
          schoolId,
          {
            kind: 'pupil',
            legalFirstName: pick(firstNames),
            legalLastName: surname,
            dateOfBirth: `${month >= 9 ? birthYear - 1 : birthYear}-${String(month).padStart(2, '0')}-${String(dayOfMonth).padStart(2, '0')}`,
            gender: next() < 0.5 ? 'F' : 'M',
            yearGroup: klass.year,
            className: klass.name,
            send: next() < 0.14,
            eal: next() < 0.18,
            lookedAfter: next() < 0.01,
            misId: String(admission),
            // The proxy user name each pupil signs in to the network with (key stage 1 and 2 have their own logins).
            networkUsername: klass.year >= 1 ? `pupil${admission}` : null,
            startDate: `${thisYear - klass.year - 1}-09-01`,
          },
          context,
          cache,
        );
        counts.pupils += 1;
        let parentIds: string[] = sibling?.parents ?? [];
        if (!sibling) {
          const parentCount = next() < 0.7 ? 2 : 1;
          parentIds = [];
          for (let p = 0; p < parentCount; p += 1) {
            const first = pick(p === 0 ? womenFirstNames : menFirstNames);
            const parent = await services.people.createPerson(
              trx,
              schoolId,
              {
                kind: 'parent',
                legalFirstName: first,
                legalLastName: surname,
                email: `${first}.${surname}.${admission}@${demoDomain}`.toLowerCase(),
                phone: `07700 900${String(100 + ((admission * 7 + p) % 900)).padStart(3, '0')}`,
              },
              context,
              cache,
            );
            counts.parents += 1;
            parentIds.push(parent.id);
          }
        }
        for (const [index, parentId] of parentIds.entries()) {
          await services.people.linkGuardian(
            trx,
            schoolId,
            { parentId, pupilId: pupil.id, relationship: index === 0 ? 'Mother' : 'Father', parentalResponsibility: true, priority: index + 1 },
            context,
          );
        }
        previousFamily = { parents: parentIds, surname };
      }
    }
  });
  await seedDemoIncidents(services, schoolId, next);
  await seedDemoAgreementsAndConsents(services, schoolId, next);
  await seedDemoFiltering(services, schoolId);
  await seedDemoVideoConferences(services, schoolId);
  await seedDemoMonitoring(services, schoolId, next);
  return { schoolId, accounts, counts };
}

/** A fixed authenticator secret for the demo's two-factor accounts (the demo sign-in page shows the code). */
export const demoTotpSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** A term's worth of fictional concerns in every state, so the incident log and dashboards have something to show. */
async function seedDemoIncidents(services: Services, schoolId: string, next: () => number): Promise<void> {
  const accounts = await services.users.list(schoolId);
  const actorFor = (email: string) => {
    const account = accounts.find((candidate) => candidate.email === email)!;
    return { schoolId, actor: { kind: 'user' as const, schoolId, userId: account.id, displayName: account.displayName, roles: account.roles } };
  };
  const teacher = actorFor(`teacher@${demoDomain}`);
  const dsl = actorFor(`dsl@${demoDomain}`);
  const lead = actorFor(`esafety@${demoDomain}`);
  const types = await services.incidents.typesFor(schoolId);
  const typeId = (code: string) => types.find((type) => type.code === code)!.id;
  const pupils = (await services.people.list(schoolId, { kind: 'pupil', status: 'current' }, 1, 1000)).people.filter((pupil) => (pupil.yearGroup ?? 0) >= 3);
  const pick = () => pupils[Math.floor(next() * pupils.length)]!;
  const scenarios: Array<{
    type: string;
    what: string;
    where: string;
    device?: string;
    people: Array<'victim' | 'instigator' | 'witness' | 'affected'>;
    progress: 'reported' | 'internal' | 'closed';
  }> = [
    {
      type: 'cyberbullying',
      what: 'Unkind nicknames posted in a class group chat after school.',
      where: 'Out of school',
      people: ['victim', 'instigator', 'witness'],
      progress: 'closed',
    },
    {
      type: 'inappropriate_website',
      what: 'Pupil reached a violent game video while searching for homework help.',
      where: 'ICT suite',
      device: 'PC 12',
      people: ['affected'],
      progress: 'closed',
    },
    {
      type: 'network_misuse',
      what: 'Pupil logged in with a classmate’s username and password.',
      where: 'Library',
      device: 'Laptop trolley B, 7',
      people: ['instigator', 'affected'],
      progress: 'internal',
    },
    {
      type: 'inappropriate_email',
      what: 'Chain message with a frightening story forwarded to the class on the learning platform.',
      where: 'Home learning',
      people: ['instigator'],
      progress: 'internal',
    },
    {
      type: 'filtering_breach',
      what: 'A proxy website got past the filter; pupils were sharing the address.',
      where: 'Year 6 classroom',
      device: 'iPad 4',
      people: ['instigator', 'witness'],
      progress: 'reported',
    },
    {
      type: 'cyberbullying',
      what: 'Edited photo of a pupil shared in a gaming group.',
      where: 'Out of school',
      people: ['victim', 'instigator'],
      progress: 'reported',
    },
    {
      type: 'pupil_worry',
      what: 'A player in an online game asked a pupil for their address and school.',
      where: 'Home',
      people: ['victim'],
      progress: 'reported',
    },
  ];
  let day = 40;
  for (const scenario of scenarios) {
    day -= 5;
    const occurredAt = new Date(services.clock().getTime() - day * 86_400_000);
    occurredAt.setUTCHours(10 + Math.floor(next() * 5), 15, 0, 0);
    const involved = scenario.people.map((role) => ({ personId: pick().id, role }));
    const { id } = await services.incidents.report(teacher, {
      occurredAt: occurredAt.toISOString(),
      typeIds: [typeId(scenario.type)],
      whatHappened: scenario.what,
      location: scenario.where,
      device: scenario.device,
      people: involved,
      outOfSchool: scenario.where.startsWith('Out of school') || scenario.where === 'Home',
      urgent: scenario.type === 'pupil_worry',
    });
    if (scenario.progress === 'reported') continue;
    const responder = scenario.type === 'cyberbullying' ? dsl : lead;
    await services.incidents.triage(responder, id, {
      severity: scenario.type === 'cyberbullying' ? 'medium' : 'low',
      severityReason: 'Initial assessment',
      illegal: 'no',
    });
    const view = await services.incidents.get(responder, id);
    const toRecord = scenario.progress === 'closed' ? view.steps : view.steps.slice(0, 2);
    for (const step of toRecord) await services.incidents.recordStep(responder, id, step.key, 'done', 'Done and noted in the pupil’s file');
    if (scenario.progress === 'closed') {
      await services.incidents.startDebrief(responder, id);
      await services.incidents.addAction(responder, id, {
        kind: 'training',
        description: 'Class session on being kind online',
        ownerName: 'Hannah Whitcombe',
        dueDate: new Date(services.clock().getTime() + 14 * 86_400_000).toISOString().slice(0, 10),
      });
      await services.incidents.close(responder, id, {
        lessonsLearnt: 'Remind the year group how to report worries early.',
        monitoringNote: 'Check in with the class teacher in two weeks.',
      });
    }
  }
}

/**
 * Class staff, signed agreements, consents and a guest, so the access register, the consent grid and
 * the reminders have something true to show. A few people are left outstanding on purpose.
 */
async function seedDemoAgreementsAndConsents(services: Services, schoolId: string, next: () => number): Promise<void> {
  const context: AuditContext = { schoolId };
  const { people, agreements, consents } = services;
  // The demo's agreements are published as it is made, so every slip is dated today (an older slip would be for an earlier text).
  const today = services.clock().toISOString().slice(0, 10);
  const groups = await people.listGroups(schoolId);
  const staff = (await people.list(schoolId, { kind: 'staff', status: 'current' }, 1, 1000)).people;
  for (const member of staff) {
    const className = /^Class teacher, (\S+)$/.exec(member.jobTitle ?? '')?.[1];
    const group = groups.find((candidate) => candidate.kind === 'class' && candidate.code === className);
    if (group) await people.assignGroupStaff(schoolId, group.id, member.id, context);
  }

  // Staff and governors signed at the start of term; the demo teacher and a few others have not yet.
  const governors = (await people.list(schoolId, { kind: 'governor', status: 'current' }, 1, 100)).people;
  for (const [index, person] of [...staff, ...governors].entries()) {
    if (person.email === `teacher@${demoDomain}` || index % 9 === 8) continue;
    await agreements.recordPaper(context, {
      audience: 'staff',
      personId: person.id,
      signedOn: today,
      signedName: `${person.legalFirstName} ${person.legalLastName}`,
    });
  }

  // Parents returned the reply slip for most pupils; most classes have held their agreement session.
  const pupils = (await people.list(schoolId, { kind: 'pupil', status: 'current' }, 1, 1000)).people;
  const purposes = await consents.purposes(schoolId);
  const decisions: Array<{ pupilId: string; purposeId: string; parentId: string; decision: 'given' | 'refused' | 'withdrawn'; method: string }> = [];
  for (const pupil of pupils) {
    const parent = (await people.guardiansOf(schoolId, pupil.id)).find((guardian) => guardian.parentalResponsibility);
    if (!parent) continue;
    if (next() < 0.88)
      await agreements.recordPaper(context, {
        audience: 'parent',
        personId: pupil.id,
        parentId: parent.id,
        signedOn: today,
        signedName: `${parent.legalFirstName} ${parent.legalLastName}`,
      });
    if (next() < 0.08) continue; // no consent form back yet
    for (const purpose of purposes) {
      const refused = next() < (purpose.code === 'press' || purpose.code === 'social_media' ? 0.15 : 0.05);
      decisions.push({ pupilId: pupil.id, purposeId: purpose.id, parentId: parent.id, decision: refused ? 'refused' : 'given', method: 'paper' });
    }
    // Now and then a parent changes their mind about social media.
    if (next() < 0.04) {
      const socialMedia = purposes.find((purpose) => purpose.code === 'social_media');
      if (socialMedia) decisions.push({ pupilId: pupil.id, purposeId: socialMedia.id, parentId: parent.id, decision: 'withdrawn', method: 'in_person' });
    }
  }
  await consents.recordMany(context, decisions);
  const classes = [...new Set(pupils.map((pupil) => pupil.className).filter((name): name is string => Boolean(name)))];
  for (const className of classes.filter((_, index) => index % 7 !== 3)) {
    const session = await agreements.classSession(context, className);
    if (!session) continue;
    const agreed = session.pupils.filter(() => next() < 0.93).map((entry) => entry.pupil.id);
    await agreements.recordClassAgreements(context, { className, versionIds: session.texts.map((text) => text.current.id), pupilIds: agreed });
  }

  // A community user with time-limited guest access, and a visitor who has not signed.
  const coach = await people.create(
    schoolId,
    {
      kind: 'visitor',
      legalFirstName: 'Robin',
      legalLastName: 'Tennant',
      organisation: 'Harbourside Chess Club (community user)',
      email: `chess.club@${demoDomain}`,
    },
    context,
  );
  await agreements.recordPaper(context, { audience: 'community', personId: coach.id, signedOn: today, signedName: 'Robin Tennant' });
  const inSixMonths = new Date(services.clock().getTime() + 182 * 86_400_000).toISOString().slice(0, 10);
  await agreements.grantGuestAccess(context, {
    personId: coach.id,
    sponsor: 'Hannah Whitcombe',
    purpose: 'After-school chess club',
    startsOn: today,
    expiresOn: inSixMonths,
  });
  await people.create(
    schoolId,
    { kind: 'visitor', legalFirstName: 'Sam', legalLastName: 'Lowther', organisation: 'Supply teacher (agency)', email: `supply@${demoDomain}` },
    context,
  );
}

/** Sample category lists (fictional example domains), the early-years walled garden and the school's networks. */
async function seedDemoFiltering(services: Services, schoolId: string): Promise<void> {
  const context: AuditContext = { schoolId };
  await services.filtering.seedDemo(context);
  for (const network of [
    { cidr: '10.10.0.0/16', groupCode: 'all_staff:staff', label: 'Staff network' },
    { cidr: '10.20.0.0/16', groupCode: 'key_stage:KS2', label: 'Key stage 2 laptops and Wi-Fi' },
    { cidr: '10.30.0.0/16', groupCode: 'key_stage:KS1', label: 'Key stage 1 tablets' },
    { cidr: '10.31.0.0/16', groupCode: 'key_stage:EYFS', label: 'Reception tablets' },
    { cidr: '10.50.0.0/16', groupCode: 'guests:guests', label: 'Guest Wi-Fi' },
  ])
    await services.filtering.addNetwork(context, network);
}

/** Two fictional video conferences in the coming days: one approved by the headteacher, one waiting for her. */
async function seedDemoVideoConferences(services: Services, schoolId: string): Promise<void> {
  const accounts = await services.users.list(schoolId);
  const actorFor = (email: string) => {
    const account = accounts.find((candidate) => candidate.email === email)!;
    return { schoolId, actor: { kind: 'user' as const, schoolId, userId: account.id, displayName: account.displayName, roles: account.roles } };
  };
  const teacher = (await services.people.list(schoolId, { kind: 'staff', status: 'current' }, 1, 1000)).people.find(
    (person) => person.email === `teacher@${demoDomain}`,
  );
  if (!teacher) return;
  const pupils = (await services.people.list(schoolId, { kind: 'pupil', status: 'current' }, 1, 1000)).people.filter(
    (pupil) => pupil.className !== null && teacher.jobTitle?.endsWith(`, ${pupil.className}`),
  );
  const day = (days: number) => new Date(services.clock().getTime() + days * 86_400_000).toISOString().slice(0, 10);
  const base = {
    supervisorId: teacher.id,
    pupilIds: pupils.slice(0, 8).map((pupil) => pupil.id),
    otherParticipants: '',
    recorded: false,
  };
  const approved = await services.videoLog.request(actorFor(`teacher@${demoDomain}`), {
    ...base,
    startsAt: londonInstant(`${day(4)}T10:30`),
    minutes: '40',
    purpose: 'Science week: questions for a scientist at a polar research station',
    externalEndpoints: 'Polar Science Outreach (fictional), over the school’s conferencing account',
  });
  await services.videoLog.decide(actorFor(`head@${demoDomain}`), approved, {
    approve: true,
    note: 'Educational; supervised by the class teacher; not recorded.',
    writtenConsent: false,
  });
  await services.videoLog.request(actorFor(`teacher@${demoDomain}`), {
    ...base,
    startsAt: londonInstant(`${day(9)}T14:00`),
    minutes: '30',
    purpose: 'Shared reading with our partner class abroad',
    externalEndpoints: 'Partner primary school (fictional), Year 4 class, over the school’s conferencing account',
  });
}

/**
 * A week of fictional web activity through the school's proxy, as a log shipper would send it: ordinary
 * browsing, some blocked attempts, homework searches and a few that raise alerts — so the DSL has
 * alerts to triage and the reports have something to show.
 */
async function seedDemoMonitoring(services: Services, schoolId: string, next: () => number): Promise<void> {
  const context: AuditContext = { schoolId };
  const pupils = (await services.people.list(schoolId, { kind: 'pupil', status: 'current' }, 1, 1000)).people.filter((pupil) => pupil.networkUsername);
  const sites = ['learn-maths.example', 'spelling-games.example', 'encyclopedia.example', 'kids-news.example', 'times-tables.example', 'www.bbc.co.uk'];
  const blockedSites = ['friendspace.example', 'spin-casino.example', 'battle-arena.example', 'shortclips.example', 'photoshare.example'];
  const homework = ['volcanoes for kids', 'romans in britain', 'how do plants grow', 'times tables 7', 'rainforest animals', 'the water cycle'];
  const concerning: Array<{ term: string; times: number }> = [
    { term: 'how to kill myself', times: 1 },
    { term: 'everyone hates me at school', times: 3 },
    { term: 'someone online wants me to send pictures', times: 2 },
  ];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const now = services.clock().getTime();
  const lines: string[] = [];
  const line = (at: number, client: string, user: string, url: string, code: string) =>
    `${(at / 1000).toFixed(3)}    ${80 + Math.floor(next() * 400)} ${client} ${code} ${1000 + Math.floor(next() * 9000)} GET ${url} ${user} HIER_DIRECT/192.0.2.20 text/html`;
  const search = (term: string) => `https://www.google.co.uk/search?q=${encodeURIComponent(term).replace(/%20/g, '+')}`;
  const midnight = now - (now % 86_400_000);
  for (let dayBack = 6; dayBack >= 1; dayBack -= 1) {
    const morning = midnight - dayBack * 86_400_000 + 9 * 3_600_000;
    for (let i = 0; i < 600; i += 1) {
      const pupil = pick(pupils);
      const at = morning + Math.floor(next() * 6 * 3_600_000);
      const client = `10.20.${1 + Math.floor(next() * 20)}.${1 + Math.floor(next() * 200)}`;
      const roll = next();
      if (roll < 0.08) lines.push(line(at, client, pupil.networkUsername!, `http://${pick(blockedSites)}/`, 'TCP_DENIED/403'));
      else if (roll < 0.15) lines.push(line(at, client, pupil.networkUsername!, search(pick(homework)), 'TCP_MISS/200'));
      else lines.push(line(at, client, pupil.networkUsername!, `http://${pick(sites)}/${Math.floor(next() * 100)}`, 'TCP_MISS/200'));
    }
  }
  for (const [index, item] of concerning.entries()) {
    const pupil = pupils[(index * 37) % pupils.length]!;
    const at = midnight - (index + 1) * 86_400_000 + (10 + index) * 3_600_000;
    for (let time = 0; time < item.times; time += 1)
      lines.push(line(at + time * 60_000, '10.20.4.9', pupil.networkUsername!, search(item.term), 'TCP_MISS/200'));
  }
  lines.push(line(midnight - 86_400_000 + 13 * 3_600_000, '10.20.7.7', '-', 'http://recruit-now.example/join', 'TCP_DENIED/403'));
  lines.push(line(midnight - 2 * 86_400_000 + 14 * 3_600_000, '10.20.9.3', pupils[5]!.networkUsername!, 'http://adult-videos.example/', 'TCP_DENIED/403'));
  lines.sort();
  for (let from = 0, batch = 1; from < lines.length; from += 5000, batch += 1)
    await services.monitoring.ingestBatch(context, { format: 'squid', source: 'demo-proxy', batchId: `demo-${batch}`, lines: lines.slice(from, from + 5000) });
}
