import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consentState, type Decision } from '../../src/features/consents/service.js';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildParentOf, buildSchool, buildUser } from '../support/factories.js';

describe('whether a pupil may appear', () => {
  const cases: Array<[string, Array<[string, Decision]>, string[], boolean, string]> = [
    ['one parent has given, one parent needed', [['a', 'given']], ['a', 'b'], false, 'allowed'],
    ['one parent has given, every parent needed', [['a', 'given']], ['a', 'b'], true, 'awaiting'],
    [
      'both have given, every parent needed',
      [
        ['a', 'given'],
        ['b', 'given'],
      ],
      ['a', 'b'],
      true,
      'allowed',
    ],
    [
      'one has given and one has refused',
      [
        ['a', 'given'],
        ['b', 'refused'],
      ],
      ['a', 'b'],
      false,
      'not_allowed',
    ],
    ['consent withdrawn', [['a', 'withdrawn']], ['a'], false, 'not_allowed'],
    ['nobody has answered', [], ['a'], false, 'awaiting'],
    ['a decision from someone without parental responsibility does not count', [['x', 'given']], ['a'], false, 'awaiting'],
  ];
  for (const [behaviour, decided, parents, everyParent, expected] of cases) {
    it(`${behaviour}: ${expected}`, () => assert.equal(consentState(new Map(decided), parents, everyParent), expected));
  }
});

for (const dialect of dialects()) {
  describe(`consents and the class grid (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('changes the class grid at once when consent is withdrawn, and needs both parents when the school says so', async () => {
      const { schoolId, school } = await buildSchool(haven.services);
      const context = { schoolId };
      const pupil = await haven.services.people.create(
        schoolId,
        { kind: 'pupil', legalFirstName: 'Nell', legalLastName: 'Grove', yearGroup: 2, className: '2G' },
        context,
      );
      const mum = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: 'Ada', lastName: 'Grove', relationship: 'Mother' });
      const dad = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: 'Rob', lastName: 'Grove', relationship: 'Father' });
      const lead = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      const leadAgent = new TestAgent(haven.app);
      await leadAgent.signIn(lead.email, lead.password, lead.totpSecret, haven.clock);
      const teacher = await buildUser(haven.services, schoolId, ['staff'], { staffRecord: true, name: 'Tam Teach' });
      const teacherAgent = new TestAgent(haven.app);
      await teacherAgent.signIn(teacher.email, teacher.password);
      const classGroup = (await haven.services.people.listGroups(schoolId)).find((group) => group.kind === 'class' && group.code === '2G')!;
      assert.equal((await teacherAgent.get('/consents?class=2G')).statusCode, 404, 'a teacher sees only the classes they teach');
      assert.match((await teacherAgent.get('/consents')).body, /data-qa="no-classes"/);
      assert.equal(
        (await teacherAgent.post(`/groups/${classGroup.id}/staff`, { personId: teacher.personId! })).statusCode,
        403,
        'teachers do not assign classes',
      );
      assert.equal((await leadAgent.post(`/groups/${classGroup.id}/staff`, { personId: teacher.personId! })).statusCode, 303);
      assert.match((await leadAgent.get(`/groups/${classGroup.id}/staff`)).body, /Tam Teach/);

      const website = (await haven.services.consents.purposes(schoolId)).find((purpose) => purpose.code === 'website')!;
      const cell = async () => {
        const page = await teacherAgent.get('/consents?class=2G');
        const row = new RegExp(
          `data-qa="grid-row-${pupil.id}"[\\s\\S]*?data-qa="cell-${website.id}">\\s*<strong class="govuk-tag[^"]*">\\s*([A-Za-z ]+?)\\s*</strong>`,
        ).exec(page.body);
        return row?.[1];
      };
      assert.equal(await cell(), 'Not yet');
      assert.equal(
        (await leadAgent.post(`/people/${pupil.id}/consents`, { purposeId: website.id, parentId: mum.id, decision: 'given', method: 'paper' })).statusCode,
        303,
      );
      assert.equal(await cell(), 'Yes');
      assert.equal(
        (await leadAgent.post(`/people/${pupil.id}/consents`, { purposeId: website.id, parentId: mum.id, decision: 'withdrawn', method: 'in_person' }))
          .statusCode,
        303,
      );
      assert.equal(await cell(), 'No', 'withdrawal takes effect at once');
      await leadAgent.post(`/people/${pupil.id}/consents`, { purposeId: website.id, parentId: mum.id, decision: 'given', method: 'paper' });
      assert.equal(await cell(), 'Yes');

      await haven.services.schools.updateSettings(haven.services.handle.db, schoolId, { ...school.settings, consentNeedsEveryParent: true });
      assert.equal(await cell(), 'Not yet', 'one parent’s consent alone is not enough');
      await leadAgent.post(`/people/${pupil.id}/consents`, { purposeId: website.id, parentId: dad.id, decision: 'given', method: 'paper' });
      assert.equal(await cell(), 'Yes');

      const stranger = await haven.services.people.create(schoolId, { kind: 'parent', legalFirstName: 'No', legalLastName: 'Relation' }, context);
      const refused = await leadAgent.post(`/people/${pupil.id}/consents`, {
        purposeId: website.id,
        parentId: stranger.id,
        decision: 'withdrawn',
        method: 'paper',
      });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /parental responsibility/);
      assert.equal((await teacherAgent.get(`/people/${pupil.id}/consents`)).statusCode, 403, 'teachers see the grid, not the records');
      const events = await haven.services.audit.list(schoolId, { action: 'consent.withdrawn' }, 1);
      assert.equal(events.length, 1);
    });

    it('lets a parent see and change only their own decisions for their own child through a single-use link', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const context = { schoolId };
      const lead = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      const leadAgent = new TestAgent(haven.app);
      await leadAgent.signIn(lead.email, lead.password, lead.totpSecret, haven.clock);
      const ours = await haven.services.people.create(
        schoolId,
        { kind: 'pupil', legalFirstName: 'Ivo', legalLastName: 'Oak', yearGroup: 4, className: '4P' },
        context,
      );
      const theirs = await haven.services.people.create(
        schoolId,
        { kind: 'pupil', legalFirstName: 'Una', legalLastName: 'Elm', yearGroup: 4, className: '4P' },
        context,
      );
      const mum = await buildParentOf(haven.services, schoolId, ours.id, { firstName: 'Mae', lastName: 'Oak' });
      await haven.services.people.update(
        schoolId,
        mum.id,
        { kind: 'parent', legalFirstName: 'Mae', legalLastName: 'Oak', email: 'mae.oak@fernbrook.test' },
        context,
      );
      await buildParentOf(haven.services, schoolId, theirs.id, { firstName: 'Eli', lastName: 'Elm' });
      const purposes = await haven.services.consents.purposes(schoolId);
      const website = purposes.find((purpose) => purpose.code === 'website')!;

      const made = await leadAgent.post(`/people/${ours.id}/consents/link`, { linkParentId: mum.id });
      assert.equal(made.statusCode, 200);
      assert.match(made.body, /Emailed to mae.oak@fernbrook.test/);
      const link = /data-qa="link">([^<]+)</.exec(made.body)![1]!;
      const path = new URL(link).pathname;
      const outbox = await haven.services.mailer.outbox(schoolId);
      assert.equal(outbox[0]!.to_address, 'mae.oak@fernbrook.test');
      assert.doesNotMatch(outbox[0]!.body_text, new RegExp(path.split('/').pop()!), 'the outbox never keeps the link');

      const parent = new TestAgent(haven.app);
      const page = await parent.get(path);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /For Ivo Oak/);
      assert.doesNotMatch(page.body, /Una|Elm/, 'nothing about another child');
      assert.match(page.body, /data-qa="terms"[\s\S]*Lessons are not recorded/, 'remote learning comes with its terms');
      assert.equal((await parent.post(path, { fullName: 'Mae Oak' })).statusCode, 400, 'every purpose needs an answer');
      const choices = Object.fromEntries(purposes.map((purpose) => [`purpose-${purpose.id}`, purpose.id === website.id ? 'yes' : 'no']));
      // A tampered form naming another pupil changes nothing for them: the link decides whose child it is.
      const done = await parent.post(path, { ...choices, fullName: 'Mae Oak', pupilId: theirs.id, parentId: 'someone-else' });
      assert.equal(done.statusCode, 200);
      assert.match(done.body, new RegExp(`${purposes.length} choices changed`));
      const mine = await haven.services.consents.forPupil(schoolId, ours.id);
      assert.equal(mine.purposes.find((entry) => entry.purpose.id === website.id)!.state, 'allowed');
      assert.equal(mine.purposes.filter((entry) => entry.state === 'not_allowed').length, purposes.length - 1);
      const other = await haven.services.consents.forPupil(schoolId, theirs.id);
      assert.ok(
        other.purposes.every((entry) => entry.state === 'awaiting'),
        'the other child is untouched',
      );

      const again = await parent.get(path);
      assert.equal(again.statusCode, 404);
      assert.match(again.body, /already been used/);
      // A fresh (unspent) consent link cannot be used to sign an agreement.
      const fresh = new URL(/data-qa="link">([^<]+)</.exec((await leadAgent.post(`/people/${ours.id}/consents/link`, { linkParentId: mum.id })).body)![1]!)
        .pathname;
      const wrongPlace = await parent.get(fresh.replace('/consent/', '/agree/'));
      assert.equal(wrongPlace.statusCode, 404);
      assert.match(wrongPlace.body, /This link is not valid/);

      // Withdrawal through a new link takes effect at once.
      const second = new URL(/data-qa="link">([^<]+)</.exec((await leadAgent.post(`/people/${ours.id}/consents/link`, { linkParentId: mum.id })).body)![1]!)
        .pathname;
      const withdraw = Object.fromEntries(purposes.map((purpose) => [`purpose-${purpose.id}`, 'no']));
      assert.match((await parent.post(second, { ...withdraw, fullName: 'Mae Oak' })).body, /1 choice changed/);
      const decisions = await haven.services.handle.db
        .selectFrom('consent_decisions')
        .select(['decision', 'method'])
        .where('pupil_id', '=', ours.id)
        .where('purpose_id', '=', website.id)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        decisions.map((row) => `${row.decision}/${row.method}`),
        ['given/link', 'withdrawn/link'],
      );
      assert.equal(
        (await leadAgent.post(`/people/${theirs.id}/consents/link`, { linkParentId: mum.id })).statusCode,
        400,
        'no link for a child who is not theirs',
      );
    });

    it('shows "check first" for every purpose while a change of circumstances is reviewed, and puts consents in the chronology', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const lead = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      const leadAgent = new TestAgent(haven.app);
      await leadAgent.signIn(lead.email, lead.password, lead.totpSecret, haven.clock);
      const pupil = await haven.services.people.create(
        schoolId,
        { kind: 'pupil', legalFirstName: 'Cal', legalLastName: 'Reed', yearGroup: 5, className: '5R' },
        { schoolId },
      );
      const dad = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: 'Ned', lastName: 'Reed' });
      const website = (await haven.services.consents.purposes(schoolId)).find((purpose) => purpose.code === 'website')!;
      await leadAgent.post(`/people/${pupil.id}/consents`, { purposeId: website.id, parentId: dad.id, decision: 'given', method: 'paper' });
      const states = async () => (await haven.services.consents.grid(schoolId, '5R')).rows[0]!.cells.map((cell) => cell.state);
      assert.equal((await states())[0], 'allowed');
      assert.equal((await leadAgent.post(`/people/${pupil.id}/consents/review`, { reason: '' })).statusCode, 400);
      assert.equal((await leadAgent.post(`/people/${pupil.id}/consents/review`, { reason: 'Court order received' })).statusCode, 303);
      assert.ok((await states()).every((state) => state === 'under_review'));
      assert.match((await leadAgent.get('/consents?class=5R')).body, /Check first/);
      assert.equal((await leadAgent.post(`/people/${pupil.id}/consents/review`, { reason: 'Again' })).statusCode, 409);
      assert.equal((await leadAgent.post(`/people/${pupil.id}/consents/review/resolve`, { resolution: 'Checked with both parents' })).statusCode, 303);
      assert.equal((await states())[0], 'allowed');

      const dsl = await buildUser(haven.services, schoolId, ['dsl'], { twoFactor: true });
      const dslAgent = new TestAgent(haven.app);
      await dslAgent.signIn(dsl.email, dsl.password, dsl.totpSecret, haven.clock);
      const chronology = await dslAgent.get(`/people/${pupil.id}/chronology`);
      assert.equal(chronology.statusCode, 200);
      assert.match(chronology.body, /Ned Reed gave consent for School website \(paper\)/);
      assert.match(chronology.body, /Consents flagged for review: Court order received/);
      assert.match(chronology.body, /Consent review completed: Checked with both parents/);
    });

    it('lets the school add and retire its own purposes, keeping the decisions already made', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const lead = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      const leadAgent = new TestAgent(haven.app);
      await leadAgent.signIn(lead.email, lead.password, lead.totpSecret, haven.clock);
      assert.equal((await leadAgent.post('/consents/purposes', { name: '' })).statusCode, 400);
      assert.equal((await leadAgent.post('/consents/purposes', { name: 'Local newspaper partnership', terms: 'The *Gazette* prints names.' })).statusCode, 303);
      assert.equal((await leadAgent.post('/consents/purposes', { name: 'local newspaper partnership' })).statusCode, 400, 'no duplicates');
      const added = (await haven.services.consents.purposes(schoolId)).find((purpose) => purpose.name === 'Local newspaper partnership')!;
      assert.equal(added.code, 'local_newspaper_partnership');
      assert.equal((await leadAgent.post('/consents/purposes', { retire: added.id })).statusCode, 303);
      assert.ok(!(await haven.services.consents.purposes(schoolId)).some((purpose) => purpose.id === added.id), 'retired purposes leave the grid');
      assert.match((await leadAgent.get('/consents/purposes')).body, /Retired/);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const teacherAgent = new TestAgent(haven.app);
      await teacherAgent.signIn(teacher.email, teacher.password);
      assert.equal((await teacherAgent.get('/consents/purposes')).statusCode, 403);
    });
  });
}
