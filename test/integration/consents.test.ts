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
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const teacherAgent = new TestAgent(haven.app);
      await teacherAgent.signIn(teacher.email, teacher.password);

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
      await leadAgent.post(`/people/${pupil.id}/consents`, { purposeId: website.id, parentId: dad.id, decision: 'given', method: 'link' });
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
  });
}
