import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildParentOf, buildSchool, buildUser } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`staff acceptable use agreement and the access register (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let lead: TestAgent;

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      const leadUser = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      lead = new TestAgent(haven.app);
      await lead.signIn(leadUser.email, leadUser.password, leadUser.totpSecret, haven.clock);
    });
    after(() => haven.close());

    async function staffEntries() {
      return (await haven.services.accessRegister.entries(schoolId)).filter((entry) => entry.category === 'staff');
    }

    async function staffTemplateId() {
      const page = await lead.get('/agreements');
      return /href="\/agreements\/([0-9a-f-]+)">Staff, governor and visitor code of conduct/.exec(page.body)![1]!;
    }

    async function publish(templateId: string, text: string) {
      assert.equal((await lead.post(`/agreements/${templateId}/draft`, { body: text })).statusCode, 303);
      assert.equal((await lead.post(`/agreements/${templateId}/publish`)).statusCode, 303);
    }

    async function sign(agent: TestAgent, name: string) {
      const page = await agent.get('/agreements/sign');
      const versionId = /name="versionId" value="([^"]+)"/.exec(page.body)![1]!;
      return agent.post('/agreements/sign', { versionId, accepted: 'yes', fullName: name, jobTitle: 'Teacher' });
    }

    it('publishes a version, three staff sign, a new version makes them outstanding, one re-signs, and the register shows exactly that', async () => {
      const templateId = await staffTemplateId();
      await publish(templateId, '## Our code\n- Keep passwords private.\n- Report concerns.');
      const staff = [];
      for (const name of ['Ana Ash', 'Ben Birch', 'Cy Cedar']) {
        const user = await buildUser(haven.services, schoolId, ['staff'], { name });
        const agent = new TestAgent(haven.app);
        await agent.signIn(user.email, user.password);
        assert.equal((await sign(agent, name)).statusCode, 303);
        assert.match((await agent.get('/agreements/sign')).body, /You have signed this version/);
        staff.push({ name, agent, user });
      }
      const before = await staffEntries();
      assert.deepEqual(
        before
          .filter((entry) => entry.staffState === 'signed')
          .map((entry) => entry.person.legalFirstName)
          .sort(),
        ['Ana', 'Ben', 'Cy'],
      );

      await publish(templateId, '## Our code\n- Keep passwords private.\n- Report concerns.\n- Lock your screen.');
      const outstanding = await staffEntries();
      assert.deepEqual(
        outstanding.filter((entry) => ['Ana', 'Ben', 'Cy'].includes(entry.person.legalFirstName)).map((entry) => entry.staffState),
        ['signed_earlier_version', 'signed_earlier_version', 'signed_earlier_version'],
      );
      const notifications = await haven.services.notifications.list(schoolId, staff[0]!.user.userId);
      assert.match(notifications[0]!.title, /Please read and sign version \d+ of the staff ICT code of conduct/);
      assert.match((await staff[0]!.agent.get('/agreements/sign')).body, /The agreement has changed: please read it and sign again/);

      assert.equal((await sign(staff[1]!.agent, 'Ben Birch')).statusCode, 303);
      const after = await staffEntries();
      const byName = Object.fromEntries(
        after.filter((entry) => ['Ana', 'Ben', 'Cy'].includes(entry.person.legalFirstName)).map((entry) => [entry.person.legalFirstName, entry.staffState]),
      );
      assert.deepEqual(byName, { Ana: 'signed_earlier_version', Ben: 'signed', Cy: 'signed_earlier_version' });
      const page = await lead.get('/access-register?category=staff&status=cleared');
      assert.match(page.body, /Birch, Ben/);
      assert.doesNotMatch(page.body, /Ash, Ana/);
      const csv = await lead.get('/access-register.csv');
      assert.match(csv.body, /"Birch, Ben",Staff,Teacher,yes,Signed version 3 of the staff code of conduct,2026-11-23,Staff,no\r\n/);
      assert.match(csv.body, /"Ash, Ana",Staff,Teacher,no,Staff code of conduct: signed an earlier version,,Most restrictive \(not cleared\),no\r\n/);
    });

    it('keeps published versions unchanged, refuses a signature without acceptance or for a superseded version, and renders no raw HTML', async () => {
      const templateId = await staffTemplateId();
      const user = await buildUser(haven.services, schoolId, ['staff'], { name: 'Dee Dale' });
      const agent = new TestAgent(haven.app);
      await agent.signIn(user.email, user.password);
      const page = await agent.get('/agreements/sign');
      const versionId = /name="versionId" value="([^"]+)"/.exec(page.body)![1]!;
      const unticked = await agent.post('/agreements/sign', { versionId, fullName: 'Dee Dale' });
      assert.equal(unticked.statusCode, 400);
      assert.match(unticked.body, /read, understood and accept/);
      await publish(templateId, 'New rules <script>alert(1)</script>');
      const stale = await agent.post('/agreements/sign', { versionId, accepted: 'yes', fullName: 'Dee Dale' });
      assert.equal(stale.statusCode, 409, 'the page was open during a publish: sign the new text');
      const fresh = await agent.get('/agreements/sign');
      assert.doesNotMatch(fresh.body, /<script>alert\(1\)<\/script>/);
      assert.match(fresh.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      const versions = await haven.services.agreements.get(schoolId, templateId);
      const superseded = versions.versions.filter((version) => version.status === 'superseded');
      assert.ok(superseded.length >= 1);
      assert.equal((await agent.get('/agreements')).statusCode, 403, 'staff do not manage agreements');
      const visitor = await buildUser(haven.services, schoolId, ['visitor'], { name: 'Vi Sitor' });
      const visitorAgent = new TestAgent(haven.app);
      await visitorAgent.signIn(visitor.email, visitor.password);
      assert.equal((await visitorAgent.get('/agreements/sign')).statusCode, 403, 'visitors sign the community agreement, not the staff one');
      assert.equal((await agent.get('/access-register')).statusCode, 403);
    });
  });
}

for (const dialect of dialects()) {
  describe(`parents sign for their child through a single-use link (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let lead: TestAgent;

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      const leadUser = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      lead = new TestAgent(haven.app);
      await lead.signIn(leadUser.email, leadUser.password, leadUser.totpSecret, haven.clock);
    });
    after(() => haven.close());

    async function family(className: string) {
      const context = { schoolId };
      const pupil = await haven.services.people.create(
        schoolId,
        { kind: 'pupil', legalFirstName: 'Mo', legalLastName: 'Reed', yearGroup: 1, className },
        context,
      );
      const withPr = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: 'Sam', lastName: 'Reed', relationship: 'Mother' });
      const withoutPr = await buildParentOf(haven.services, schoolId, pupil.id, {
        firstName: 'Lee',
        lastName: 'Reed',
        relationship: 'Step-parent',
        parentalResponsibility: false,
      });
      return { pupil, withPr, withoutPr };
    }

    it('prints one letter per parent with parental responsibility, signs once, then refuses the same, a tampered or an expired link', async () => {
      const { pupil } = await family('1R');
      assert.doesNotMatch((await lead.get('/agreements/letters')).body, /data-qa="letter-url"/, 'viewing the page issues nothing');
      assert.equal((await lead.post('/agreements/letters', { class: 'ZZ' })).statusCode, 400);
      const letters = await lead.post('/agreements/letters', { class: '1R' });
      assert.match(letters.body, /data-qa="letter-count">1 letter for class 1R/);
      assert.match(letters.body, /<svg/);
      const url = /data-qa="letter-url">([^<]+)</.exec(letters.body)![1]!;
      const path = new URL(url).pathname;
      const parent = new TestAgent(haven.app);
      const page = await parent.get(path);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /For Mo Reed/);
      const versionId = /name="versionId" value="([^"]+)"/.exec(page.body)![1]!;
      assert.equal((await parent.post(path, { versionId, fullName: 'Sam Reed' })).statusCode, 400, 'acceptance must be ticked');
      const signed = await parent.post(path, { versionId, accepted: 'yes', fullName: 'Sam Reed' });
      assert.equal(signed.statusCode, 200);
      assert.match(signed.body, /You have signed the agreement for Mo Reed/);
      const again = await parent.get(path);
      assert.equal(again.statusCode, 404);
      assert.match(again.body, /already been used/);
      assert.equal((await parent.post(path, { versionId, accepted: 'yes', fullName: 'Sam Reed' })).statusCode, 404);
      const tampered = await parent.get(`${path.slice(0, -4)}AAAA`);
      assert.match(tampered.body, /This link is not valid/);
      const rows = await haven.services.handle.db
        .selectFrom('agreement_signatures')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where('person_id', '=', pupil.id)
        .execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.method, 'parent_link');

      const { pupil: second, withPr } = await family('1S');
      const expiring = await haven.services.agreements.issueParentLink({ schoolId }, second.id, withPr.id);
      haven.clock.advance(31 * 86_400_000);
      assert.match((await parent.get(new URL(expiring).pathname)).body, /This link has expired/);
    });

    it('keeps only the newest letter’s link working', async () => {
      const { pupil, withPr } = await family('1U');
      const first = await haven.services.agreements.issueParentLink({ schoolId }, pupil.id, withPr.id);
      const second = await haven.services.agreements.issueParentLink({ schoolId }, pupil.id, withPr.id);
      const parent = new TestAgent(haven.app);
      assert.equal((await parent.get(new URL(first).pathname)).statusCode, 404);
      assert.equal((await parent.get(new URL(second).pathname)).statusCode, 200);
    });

    it('refuses a link for a parent without parental responsibility', async () => {
      const { pupil, withoutPr } = await family('1T');
      await assert.rejects(haven.services.agreements.issueParentLink({ schoolId }, pupil.id, withoutPr.id), /parental responsibility/);
    });
  });
}

for (const dialect of dialects()) {
  describe(`pupils agree in a class session, and the pupils' access register (${dialect})`, () => {
    let haven: TestHaven;

    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('clears a pupil once both agreements are in place, and an EYFS pupil on the parent’s alone', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const context = { schoolId };
      const teacherUser = await buildUser(haven.services, schoolId, ['staff'], { staffRecord: true });
      const teacher = new TestAgent(haven.app);
      await teacher.signIn(teacherUser.email, teacherUser.password);
      const teach = async (className: string) => {
        const group = (await haven.services.people.listGroups(schoolId)).find((candidate) => candidate.kind === 'class' && candidate.code === className)!;
        await haven.services.people.assignGroupStaff(schoolId, group.id, teacherUser.personId!, context);
      };
      const make = async (first: string, yearGroup: number, className: string) => {
        const pupil = await haven.services.people.create(
          schoolId,
          { kind: 'pupil', legalFirstName: first, legalLastName: 'Pupil', yearGroup, className },
          context,
        );
        const parent = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: `${first}s-parent`, lastName: 'Pupil', relationship: 'Father' });
        return { pupil, parent };
      };
      const both = await make('Bo', 3, '3Q');
      const pupilOnly = await make('Po', 3, '3Q');
      const parentOnly = await make('Pa', 3, '3Q');
      const reception = await make('Re', 0, 'RQ');
      const parentSigns = async (entry: { pupil: { id: string }; parent: { id: string } }) => {
        const url = await haven.services.agreements.issueParentLink(context, entry.pupil.id, entry.parent.id);
        const opened = await haven.services.agreements.openParentLink(new URL(url).pathname.split('/').pop()!);
        await haven.services.agreements.signWithParentLink(new URL(url).pathname.split('/').pop()!, {
          versionId: opened.current.id,
          fullName: 'A Parent',
          accepted: true,
          ip: undefined,
        });
      };
      await parentSigns(both);
      await parentSigns(parentOnly);
      await parentSigns(reception);
      const mixedY2 = await make('Mo', 2, '23M');
      const mixedY3 = await make('My', 3, '23M');

      assert.equal((await teacher.get('/agreements/class-session?class=3Q')).statusCode, 404, 'only the classes the teacher teaches');
      assert.equal((await teacher.post('/agreements/class-session', { class: '3Q', pupilIds: [both.pupil.id] })).statusCode, 404);
      await teach('3Q');
      await teach('RQ');
      await teach('23M');
      // A mixed Y2/Y3 class sees both texts, and each pupil agrees to their own key stage's rules.
      const mixed = await teacher.get('/agreements/class-session?class=23M');
      assert.match(mixed.body, /Our rules for using computers and tablets/);
      assert.match(mixed.body, /Staying SMART online/);
      const versionIds = [...mixed.body.matchAll(/name="versionId" value="([^"]+)"/g)].map((match) => match[1]!);
      assert.equal(versionIds.length, 2);
      assert.match(
        (await teacher.post('/agreements/class-session', { class: '23M', versionId: versionIds, pupilIds: [mixedY2.pupil.id, mixedY3.pupil.id] })).body,
        /Recorded 2 pupils’ agreement/,
      );
      const mixedRegister = (await haven.services.accessRegister.entries(schoolId)).filter((entry) => entry.person.className === '23M');
      assert.deepEqual(
        mixedRegister.map((entry) => entry.pupilState),
        ['signed', 'signed'],
        'the register sees both pupils’ agreements',
      );

      const session = await teacher.get('/agreements/class-session?class=3Q');
      assert.match(session.body, /Staying SMART online/, 'key stage 2 pupils see the SMART rules');
      const versionId = /name="versionId" value="([^"]+)"/.exec(session.body)![1]!;
      const recorded = await teacher.post('/agreements/class-session', { class: '3Q', versionId, pupilIds: [both.pupil.id, pupilOnly.pupil.id] });
      assert.match(recorded.body, /Recorded 2 pupils’ agreement/);
      assert.match(
        (await teacher.get('/agreements/class-session?class=RQ')).body,
        /Our rules for using computers and tablets/,
        'reception sees the picture-friendly rules',
      );

      const register = (await haven.services.accessRegister.entries(schoolId)).filter((entry) => entry.category === 'pupil');
      const cleared = Object.fromEntries(register.map((entry) => [entry.person.legalFirstName, entry.cleared]));
      assert.deepEqual(cleared, { Bo: true, Po: false, Pa: false, Re: true, Mo: false, My: false });
      assert.equal(register.find((entry) => entry.person.legalFirstName === 'Pa')!.reason, 'Missing: pupil agreement (not signed)');
      assert.equal(register.find((entry) => entry.person.legalFirstName === 'Po')!.reason, 'Missing: parent agreement (not signed)');
      assert.equal(register.find((entry) => entry.person.legalFirstName === 'Re')!.filtering.code, 'EYFS');
      assert.equal(register.find((entry) => entry.person.legalFirstName === 'Po')!.filtering.code, 'uncleared');
      const headAgent = new TestAgent(haven.app);
      await headAgent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      assert.match((await headAgent.get('/access-register/pupils?status=not_cleared')).body, /Missing: parent agreement/);
      assert.equal((await teacher.get('/access-register/pupils')).statusCode, 403);
    });
  });
}

for (const dialect of dialects()) {
  describe(`paper copies of agreements (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('records a parent’s paper slip with an encrypted scan, and links the person page to it', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const pupil = await haven.services.people.create(
        schoolId,
        { kind: 'pupil', legalFirstName: 'Tom', legalLastName: 'Slip', yearGroup: 4, className: '4P' },
        { schoolId },
      );
      const parent = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: 'Tess', lastName: 'Slip' });
      const stepParent = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: 'Sid', lastName: 'Slip', parentalResponsibility: false });
      const agent = new TestAgent(haven.app);
      await agent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      const person = await agent.get(`/people/${pupil.id}`);
      assert.match(person.body, /data-qa="agreements-link"/);
      assert.match(person.body, /data-qa="chronology-link"/);
      const page = await agent.get(`/people/${pupil.id}/agreements`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const post = async (fields: Record<string, string>, scan?: Buffer) => {
        const boundary = `----haven${Math.random()}`;
        const parts: Buffer[] = Object.entries({ _csrf: csrf, ...fields }).map(([name, value]) =>
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
        );
        if (scan)
          parts.push(
            Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="scan"; filename="slip.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
            scan,
            Buffer.from('\r\n'),
          );
        parts.push(Buffer.from(`--${boundary}--\r\n`));
        return agent.request('POST', `/people/${pupil.id}/agreements/paper`, {
          payload: Buffer.concat(parts),
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        });
      };
      assert.equal(
        (await post({ audience: 'parent', parentId: stepParent.id, signedName: 'Sid Slip', signedOn: '2026-11-23' })).statusCode,
        400,
        'parental responsibility is needed',
      );
      assert.equal(
        (await post({ audience: 'parent', parentId: parent.id, signedName: 'Tess Slip', signedOn: '2027-01-01' })).statusCode,
        400,
        'not in the future',
      );
      const scan = Buffer.from('%PDF-1.4\n% reply slip signed by Tess Slip\n');
      assert.equal(
        (await post({ audience: 'parent', parentId: parent.id, signedName: 'Tess Slip', signedOn: '2026-02-31' })).statusCode,
        400,
        'not a real date',
      );
      const early = await post({ audience: 'parent', parentId: parent.id, signedName: 'Tess Slip', signedOn: '2026-11-20' });
      assert.equal(early.statusCode, 400, 'a slip dated before the version in force is for an earlier text');
      assert.match(early.body, /published on 2026-11-23/);
      assert.equal((await post({ audience: 'parent', parentId: parent.id, signedName: 'Tess Slip', signedOn: '2026-11-23' }, scan)).statusCode, 303);
      assert.match((await agent.get(`/people/${pupil.id}/agreements`)).body, /paper \(scan kept\)/);
      const row = await haven.services.handle.db.selectFrom('agreement_signatures').selectAll().where('person_id', '=', pupil.id).executeTakeFirstOrThrow();
      assert.equal(row.signed_by_person_id, parent.id);
      const stored = await haven.services.files.read(haven.services.handle.db, schoolId, row.scan_file_id!);
      assert.equal(stored.data.toString(), scan.toString());
      const register = await haven.services.accessRegister.entries(schoolId);
      assert.equal(register.find((entry) => entry.person.id === pupil.id)!.parentState, 'signed');
    });
  });
}

for (const dialect of dialects()) {
  describe(`guest access for visitors and community users (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('gives time-limited access only after the community agreement is signed, and shows when it has expired', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const lead = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      const agent = new TestAgent(haven.app);
      await agent.signIn(lead.email, lead.password, lead.totpSecret, haven.clock);
      const visitor = await haven.services.people.create(
        schoolId,
        { kind: 'visitor', legalFirstName: 'Val', legalLastName: 'Guest', organisation: 'Evening class' },
        { schoolId },
      );
      const grant = { personId: visitor.id, sponsor: 'Eli Lead', purpose: 'Adult IT class on Tuesdays', startsOn: '2026-11-23', expiresOn: '2026-12-18' };
      const refused = await agent.post('/access-register/guests', grant);
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /Record their signed community user agreement first/);
      await haven.services.agreements.recordPaper(
        { schoolId, actor: { kind: 'user', schoolId, userId: lead.userId, displayName: 'Eli Lead', roles: ['esafety_lead'] } },
        { audience: 'community', personId: visitor.id, signedOn: '2026-11-23', signedName: 'Val Guest' },
      );
      assert.equal((await agent.post('/access-register/guests', grant)).statusCode, 303);
      assert.match((await agent.get('/access-register/guests')).body, /data-qa="state">active</);
      haven.clock.advance(30 * 86_400_000);
      const later = new TestAgent(haven.app);
      await later.signIn(lead.email, lead.password, lead.totpSecret, haven.clock);
      assert.match((await later.get('/access-register/guests')).body, /data-qa="state">expired</);
      const technician = await buildUser(haven.services, schoolId, ['technician']);
      const techAgent = new TestAgent(haven.app);
      await techAgent.signIn(technician.email, technician.password);
      const page = await techAgent.get('/access-register/guests');
      assert.equal(page.statusCode, 200, 'the technician sees who has guest access');
      assert.doesNotMatch(page.body, /data-qa="grant-guest"/);
      assert.equal((await techAgent.post('/access-register/guests', grant)).statusCode, 403);
    });
  });
}
