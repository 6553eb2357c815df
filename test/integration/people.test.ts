import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool, buildUser } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`people, groups and the roles register (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let head: TestAgent;
    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      head = new TestAgent(haven.app);
      await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
    });
    after(() => haven.close());

    it('adds a pupil, who joins their class, year group and key stage', async () => {
      const created = await head.post('/people', {
        kind: 'pupil',
        legalFirstName: 'Tilly',
        legalLastName: 'Oakes',
        dateOfBirth: '04/05/2018',
        yearGroup: '2',
        className: '2K',
        markers: ['send', 'eal'],
      });
      assert.equal(created.statusCode, 303);
      const page = await head.get(created.location!);
      assert.match(page.body, /Year 2, class 2K \(KS1\)/);
      assert.match(page.body, /4 May 2018/);
      assert.match(page.body, /SEND/);
      const groups = await haven.services.people.groupsOf(schoolId, created.location!.split('/').pop()!);
      assert.deepEqual(groups.map((group) => group.name).sort(), ['Class 2K', 'Key stage 1', 'Year 2']);
    });

    it('explains each wrong field next to it and in the error summary', async () => {
      const response = await head.post('/people', { kind: 'pupil', legalFirstName: '', legalLastName: 'Oakes', dateOfBirth: '31/02/2018', yearGroup: '' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /govuk-error-summary/);
      assert.match(response.body, /href="#dateOfBirth"/);
      assert.match(response.body, /Date of birth must be a real date/);
      const missingName = await head.post('/people', { kind: 'pupil', legalFirstName: '', legalLastName: 'Oakes', yearGroup: '2' });
      assert.match(missingName.body, /<a href="#legalFirstName">Enter the legal first name<\/a>/);
    });

    it('escapes what people type when it is shown back', async () => {
      const created = await head.post('/people', {
        kind: 'visitor',
        legalFirstName: 'Eve',
        legalLastName: 'Visitor',
        organisation: '"><script>alert(1)</script>',
        jobTitle: "javascript:alert('x')",
      });
      const page = await head.get(created.location!);
      assert.doesNotMatch(page.body, /<script>alert\(1\)<\/script>/);
      assert.match(page.body, /&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.doesNotMatch(page.body, /href="javascript:/);
      const refused = await head.post('/people', { kind: 'visitor', legalFirstName: '<b>Eve</b>', legalLastName: 'Visitor' });
      assert.equal(refused.statusCode, 400, 'names with markup are refused');
    });

    it('marks a leaver as left and disables their account and sessions at once', async () => {
      const teacherUser = await buildUser(haven.services, schoolId, ['staff']);
      const person = await haven.services.people.create(
        schoolId,
        { kind: 'staff', legalFirstName: 'Lou', legalLastName: 'Leaver', jobTitle: 'Teacher' },
        { schoolId },
      );
      await haven.services.handle.db.updateTable('users').set({ person_id: person.id }).where('id', '=', teacherUser.userId).execute();
      const teacher = new TestAgent(haven.app);
      await teacher.signIn(teacherUser.email, teacherUser.password);
      assert.equal((await teacher.get('/account')).statusCode, 200);
      assert.equal((await head.post(`/people/${person.id}/leave`)).statusCode, 303);
      assert.match((await teacher.get('/account')).location ?? '', /^\/sign-in/);
      const after = await haven.services.people.get(schoolId, person.id);
      assert.equal(after.status, 'left');
      assert.equal((await haven.services.users.get(schoolId, teacherUser.userId)).status, 'disabled');
      assert.match((await head.get(`/people/${person.id}`)).body, /Left the school/);
    });

    it('invites a member of staff from their record, so marking them as left disables the account', async () => {
      const person = await haven.services.people.create(
        schoolId,
        { kind: 'staff', legalFirstName: 'Nia', legalLastName: 'Brook', jobTitle: 'Teaching assistant', email: 'nia.brook@fernbrook.test' },
        { schoolId },
      );
      assert.match((await head.get(`/people/${person.id}`)).body, /data-qa="invite-person"/);
      const form = await head.get(`/admin/users/new?person=${person.id}`);
      assert.match(form.body, /value="nia.brook@fernbrook.test"/);
      assert.match(form.body, new RegExp(`name="personId" value="${person.id}"`));
      const invited = await head.post('/admin/users', { displayName: 'Nia Brook', email: 'nia.brook@fernbrook.test', personId: person.id, roles: ['staff'] });
      assert.equal(invited.statusCode, 200);
      const account = await haven.services.users.findByPerson(schoolId, person.id);
      assert.equal(account?.email, 'nia.brook@fernbrook.test');
      await head.post(`/people/${person.id}/leave`);
      assert.equal((await haven.services.users.findByPerson(schoolId, person.id))?.status, 'disabled');
    });

    it('links parents with parental responsibility to a pupil', async () => {
      const pupil = await haven.services.people.create(schoolId, { kind: 'pupil', legalFirstName: 'Kit', legalLastName: 'Rowe', yearGroup: 4 }, { schoolId });
      const parent = await haven.services.people.create(
        schoolId,
        { kind: 'parent', legalFirstName: 'Jan', legalLastName: 'Rowe', phone: '07700 900123' },
        { schoolId },
      );
      assert.equal(
        (await head.post(`/people/${pupil.id}/guardians`, { parentId: parent.id, relationship: 'Father', parentalResponsibility: 'yes' })).statusCode,
        303,
      );
      assert.match((await head.get(`/people/${pupil.id}`)).body, /Jan Rowe<\/a> — Father \(parental responsibility\)/);
      assert.match((await head.get(`/people/${parent.id}`)).body, /Kit Rowe/);
    });

    it('keeps the roles register and prints the who-to-tell poster', async () => {
      assert.equal((await head.post('/who-to-tell', { post: 'dsl', name: 'Dana Shore', contact: 'Room 4' })).statusCode, 303);
      assert.equal((await head.post('/who-to-tell', { post: 'not-a-post', name: 'X' })).statusCode, 400);
      const poster = await head.get('/who-to-tell?poster=1');
      assert.match(poster.body, /data-qa="poster"/);
      assert.match(poster.body, /Dana Shore/);
      assert.match(poster.body, /Room 4/);
      // Everyone signed in sees the register; a pupil account too.
      const pupilUser = await buildUser(haven.services, schoolId, ['pupil']);
      const pupil = new TestAgent(haven.app);
      await pupil.signIn(pupilUser.email, pupilUser.password);
      assert.match((await pupil.get('/who-to-tell')).body, /Dana Shore/);
      assert.equal((await pupil.get('/people')).statusCode, 403);
    });

    it('lists groups with their member counts', async () => {
      const page = await head.get('/groups');
      assert.match(page.body, /All staff/);
      assert.match(page.body, /Key stage 2/);
    });
  });
}
