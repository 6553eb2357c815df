import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redactPath } from '../../src/app.js';
import { safeNext } from '../../src/platform/http.js';
import { totpCode } from '../../src/platform/auth/totp.js';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool, buildUser } from '../support/factories.js';
import { simsHeaders, simsPupils, toCsv } from '../support/mis.js';

describe('redirects and logs', () => {
  const cases: Array<[string, string]> = [
    ['/people?kind=pupil', '/people?kind=pupil'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['/\t/evil.example', '/'],
    ['/\n/evil.example', '/'],
    ['https://evil.example', '/'],
  ];
  for (const [next, expected] of cases) it(`sends “${JSON.stringify(next)}” to ${expected} after sign-in`, () => assert.equal(safeNext(next), expected));

  it('keeps single-use link tokens and query strings out of the server log', () => {
    assert.equal(redactPath('/invitations/abc.def'), '/invitations/[redacted]');
    assert.equal(redactPath('/password-reset/abc.def?x=1'), '/password-reset/[redacted]?[query]');
    assert.equal(redactPath('/consent/abc.def'), '/consent/[redacted]', 'parents’ consent links');
    assert.equal(redactPath('/agree/abc.def'), '/agree/[redacted]');
    assert.equal(redactPath('/people?q=Smith'), '/people?[query]');
    assert.equal(redactPath('/people'), '/people');
  });
});

for (const dialect of dialects()) {
  describe(`account security (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('does not let a session that still owes a code re-enrol two-factor with a new secret', async () => {
      const { head } = await buildSchool(haven.services);
      const agent = new TestAgent(haven.app);
      await agent.post('/sign-in', { email: head.email, password: head.password });
      const attempt = await agent.post('/account/two-factor/setup', { code: '123456' });
      assert.equal(attempt.location, '/sign-in/two-factor');
      assert.doesNotMatch(attempt.body, /totp-secret/);
      assert.equal((await agent.get('/people')).location, '/sign-in/two-factor', 'still not signed in');
      // The real authenticator still works.
      assert.equal((await agent.post('/sign-in/two-factor', { code: totpCode(head.totpSecret, haven.clock()) })).location, '/');
    });

    it('keeps counting wrong codes across repeated correct passwords', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const dsl = await buildUser(haven.services, schoolId, ['dsl'], { twoFactor: true });
      const statuses: number[] = [];
      for (let round = 0; round < 3; round += 1) {
        const agent = new TestAgent(haven.app);
        await agent.post('/sign-in', { email: dsl.email, password: dsl.password });
        for (let i = 0; i < 2; i += 1) statuses.push((await agent.post('/sign-in/two-factor', { code: '000000' })).statusCode);
      }
      assert.deepEqual(statuses.slice(0, 4), [400, 400, 400, 400]);
      assert.equal(statuses[4], 429, 'the fifth wrong code locks the account, whatever passwords came between');
    });

    it('lets only one of two simultaneous requests use the same code', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const dsl = await buildUser(haven.services, schoolId, ['dsl'], { twoFactor: true });
      const first = new TestAgent(haven.app);
      const second = new TestAgent(haven.app);
      await first.post('/sign-in', { email: dsl.email, password: dsl.password });
      await second.post('/sign-in', { email: dsl.email, password: dsl.password });
      const code = totpCode(dsl.totpSecret!, haven.clock());
      const results = await Promise.all([first.post('/sign-in/two-factor', { code }), second.post('/sign-in/two-factor', { code })]);
      assert.deepEqual(results.map((result) => result.statusCode).sort(), [303, 400]);
    });

    it('keeps the outbox from technicians, and a token from doing more than its maker', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const technician = await buildUser(haven.services, schoolId, ['technician']);
      const agent = new TestAgent(haven.app);
      await agent.signIn(technician.email, technician.password);
      assert.equal((await agent.get('/admin/outbox')).statusCode, 403);
      const refused = await agent.post('/admin/api-tokens', { name: 'sneaky', scopes: ['people.read'] });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /only give a token scopes you hold yourself: not people.read/);
      assert.equal((await agent.post('/admin/api-tokens', { name: 'filter sync', scopes: ['groups.read'] })).statusCode, 200);
    });

    it('sends someone newly given a safeguarding role to enrol two-factor before anything else', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const agent = new TestAgent(haven.app);
      await agent.signIn(teacher.email, teacher.password);
      await haven.services.users.setRoles(schoolId, teacher.userId, ['staff', 'deputy_dsl'], {
        schoolId,
        actor: { kind: 'user', schoolId, userId: head.userId, displayName: 'Head', roles: ['headteacher'] },
      });
      assert.equal((await agent.get('/people')).location, '/account/two-factor/setup');
    });

    it('refuses roles that cannot be given from the accounts page', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const agent = new TestAgent(haven.app);
      await agent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      assert.equal((await agent.post(`/admin/users/${teacher.userId}/roles`, { roles: ['staff', 'trust_admin'] })).statusCode, 400);
      assert.deepEqual((await haven.services.users.get(schoolId, teacher.userId)).roles, ['staff']);
    });

    it('changes a password without starting a new session, and signs the other sessions out', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const laptop = new TestAgent(haven.app);
      const phone = new TestAgent(haven.app);
      await laptop.signIn(teacher.email, teacher.password);
      await phone.signIn(teacher.email, teacher.password);
      const changed = await laptop.post('/account/password', {
        currentPassword: teacher.password,
        password: 'violet-harbour-kite',
        confirmPassword: 'violet-harbour-kite',
      });
      assert.equal(changed.statusCode, 200);
      assert.match(changed.body, /signed out everywhere else/);
      assert.equal((await laptop.get('/account')).statusCode, 200);
      assert.match((await phone.get('/account')).location ?? '', /^\/sign-in/);
      const sessions = await haven.services.handle.db.selectFrom('sessions').select('id').where('user_id', '=', teacher.userId).execute();
      assert.equal(sessions.length, 1);
      const wrong = await laptop.post('/account/password', {
        currentPassword: 'not-it',
        password: 'violet-harbour-kite2',
        confirmPassword: 'violet-harbour-kite2',
      });
      assert.match(wrong.body, /Your current password is wrong/);
    });

    it('disables the account of someone an import marks as left by a past leaving date', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const context = { schoolId };
      const staffCsv = (leaveDate: string) => `Staff Code,Forename,Surname,Job Title,Leaving Date\nT1,Rae,Holm,Teacher,${leaveDate}\n`;
      const first = await haven.services.people.startImport(schoolId, { kind: 'staff', fileName: 's.csv', csv: staffCsv('') }, context);
      await haven.services.people.applyImport(schoolId, first.importId, { validOnly: false }, context);
      const person = (await haven.services.people.list(schoolId, { kind: 'staff', search: 'Holm' })).people[0]!;
      const { userId } = await haven.services.users.invite(
        schoolId,
        { displayName: 'Rae Holm', email: 'rae.holm@fernbrook.test', roles: ['staff'], personId: person.id },
        context,
      );
      const second = await haven.services.people.startImport(schoolId, { kind: 'staff', fileName: 's.csv', csv: staffCsv('31/08/2026') }, context);
      await haven.services.people.applyImport(schoolId, second.importId, { validOnly: false }, context);
      assert.equal((await haven.services.people.get(schoolId, person.id)).status, 'left');
      assert.equal((await haven.services.users.get(schoolId, userId)).status, 'disabled');
    });

    it('searches names literally, so % and _ match only themselves', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const context = { schoolId };
      const started = await haven.services.people.startImport(
        schoolId,
        {
          kind: 'pupil',
          fileName: 'p.csv',
          csv: toCsv(
            simsHeaders,
            simsPupils(5).map((p) => p.cells),
          ),
        },
        context,
      );
      await haven.services.people.applyImport(schoolId, started.importId, { validOnly: false }, context);
      assert.equal((await haven.services.people.list(schoolId, { search: '%' })).total, 0);
      assert.equal((await haven.services.people.list(schoolId, { search: '_' })).total, 0);
      assert.equal((await haven.services.people.list(schoolId, { search: 'arden' })).total, 1);
    });
  });
}
