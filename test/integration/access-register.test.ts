import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJobScheduler } from '../../src/platform/jobs.js';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildParentOf, buildSchool, buildUser } from '../support/factories.js';

const day = 86_400_000;

for (const dialect of dialects()) {
  describe(`the jobs scheduler (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('runs a due job once however many schedulers try, records each run, and runs it again only when next due', async () => {
      const runs: string[] = [];
      const make = () => {
        const scheduler = createJobScheduler({ handle: haven.services.handle, clock: haven.clock });
        scheduler.register({
          name: `count-${dialect}`,
          everyMinutes: 60,
          run: async () => {
            runs.push(haven.clock().toISOString());
            await new Promise((resolve) => setTimeout(resolve, 20));
            return 'counted';
          },
        });
        return scheduler;
      };
      const [first, second] = [make(), make()];
      const outcomes = await Promise.all([first.runDue(), second.runDue()]);
      assert.equal(runs.length, 1, 'the lease lets only one scheduler run the job');
      assert.equal(outcomes.flat().length, 1);
      assert.equal((await first.runDue()).length, 0, 'not due again yet');
      haven.clock.advance(61 * 60_000);
      assert.deepEqual(
        (await second.runDue()).map((outcome) => outcome.summary),
        ['counted'],
      );
      assert.equal(runs.length, 2);
      const recorded = (await first.recentRuns()).filter((run) => run.name === `count-${dialect}`);
      assert.deepEqual(
        recorded.map((run) => run.status),
        ['ok', 'ok'],
      );
    });

    it('records a failed run and releases the lease so the next run can happen', async () => {
      const scheduler = createJobScheduler({ handle: haven.services.handle, clock: haven.clock });
      let fail = true;
      scheduler.register({
        name: `flaky-${dialect}`,
        everyMinutes: 5,
        run: () => (fail ? Promise.reject(new Error('mail server down')) : Promise.resolve('fine')),
      });
      assert.deepEqual(await scheduler.runNow(`flaky-${dialect}`), { name: `flaky-${dialect}`, status: 'failed', summary: 'mail server down' });
      fail = false;
      assert.equal((await scheduler.runNow(`flaky-${dialect}`))?.status, 'ok', 'a forced run does not wait for the next due time');
      await assert.rejects(scheduler.runNow('no-such-job'), /There is no job called "no-such-job"/);
    });
  });

  describe(`the ICT access register (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let head: TestAgent;
    let technician: TestAgent;
    let signInStaff: () => Promise<void>;

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      const tech = await buildUser(haven.services, schoolId, ['technician']);
      // Each test signs in afresh: the clock moves by months between them.
      signInStaff = async () => {
        haven.clock.advance(31_000);
        head = new TestAgent(haven.app);
        await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
        technician = new TestAgent(haven.app);
        await technician.signIn(tech.email, tech.password);
      };
    });
    after(() => haven.close());

    async function signStaffAgreement(agent: TestAgent, name: string) {
      const page = await agent.get('/agreements/sign');
      const versionId = /name="versionId" value="([^"]+)"/.exec(page.body)![1]!;
      assert.equal((await agent.post('/agreements/sign', { versionId, accepted: 'yes', fullName: name, jobTitle: 'Teacher' })).statusCode, 303);
    }

    async function entryOf(personId: string) {
      return (await haven.services.accessRegister.entries(schoolId)).find((entry) => entry.person.id === personId)!;
    }

    it('asks staff to renew after the renewal period, and the register and clearance follow', async () => {
      await signInStaff();
      const user = await buildUser(haven.services, schoolId, ['staff'], { staffRecord: true, name: 'Rene Wall' });
      const agent = new TestAgent(haven.app);
      await agent.signIn(user.email, user.password);
      await signStaffAgreement(agent, 'Rene Wall');
      assert.equal((await entryOf(user.personId!)).staffState, 'signed');
      const staffTemplate = (await haven.services.agreements.list(schoolId)).find((template) => template.audience === 'staff')!;
      assert.equal((await head.post(`/agreements/${staffTemplate.id}/renewal`, { renewalMonths: 'soon' })).statusCode, 400);
      assert.equal((await head.post(`/agreements/${staffTemplate.id}/renewal`, { renewalMonths: '12' })).statusCode, 303);

      haven.clock.advance(366 * day);
      await agent.signIn(user.email, user.password);
      await signInStaff();
      const entry = await entryOf(user.personId!);
      assert.equal(entry.staffState, 'renewal_due');
      assert.equal(entry.cleared, false);
      assert.equal(entry.filtering.code, 'uncleared', 'anyone not cleared gets the most restrictive filtering');
      assert.equal((await haven.services.people.clearance(schoolId, [user.personId!])).get(user.personId!)!.cleared, false);
      assert.match((await agent.get('/agreements/sign')).body, /sign again each year/);
      await signStaffAgreement(agent, 'Rene Wall');
      const clearance = await haven.services.people.clearance(schoolId, [user.personId!, 'not-a-person']);
      assert.deepEqual(
        { ...clearance.get(user.personId!)!, since: null },
        { cleared: true, reason: 'Signed version 1 of the staff code of conduct', since: null, groupKind: 'all_staff', groupCode: 'staff' },
      );
      assert.equal(clearance.get('not-a-person')!.cleared, false);
      await head.post(`/agreements/${staffTemplate.id}/renewal`, { renewalMonths: '' });
    });

    it('lists who was cleared since a date for the technician, who records the accounts made; leavers still holding access are listed until removed', async () => {
      haven.clock.advance(day);
      await signInStaff();
      const since = haven.clock().toISOString().slice(0, 10);
      const user = await buildUser(haven.services, schoolId, ['staff'], { staffRecord: true, name: 'Nia Newcombe' });
      const agent = new TestAgent(haven.app);
      await agent.signIn(user.email, user.password);
      const unsigned = await buildUser(haven.services, schoolId, ['staff'], { staffRecord: true, name: 'Oz Outstanding' });
      await signStaffAgreement(agent, 'Nia Newcombe');

      const list = await technician.get(`/access-register?status=cleared&since=${since}`);
      assert.match(list.body, /Newcombe, Nia/);
      assert.doesNotMatch(list.body, /Wall, Rene/, 'cleared before the date');
      assert.doesNotMatch(list.body, /Outstanding, Oz/, 'not cleared');
      const csv = await technician.get(`/access-register.csv?status=cleared&since=${since}`);
      assert.equal(csv.body.trim().split('\r\n').length, 2, 'the header and Nia');

      const refused = await technician.post('/access-register/accounts', { personIds: [unsigned.personId!] });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /only be recorded for people who are cleared/);
      assert.equal((await technician.post('/access-register/accounts', { personIds: [user.personId!] })).statusCode, 303);
      assert.equal((await entryOf(user.personId!)).accountRecorded, true);

      await haven.services.people.markLeft(schoolId, user.personId!, since, { schoolId });
      const leavers = await technician.get('/access-register/leavers');
      assert.match(leavers.body, /Newcombe, Nia[\s\S]*?data-qa="holds">network account</);
      assert.equal((await head.get('/access-register')).statusCode, 200);
      assert.equal((await technician.post('/access-register/leavers', { personIds: [unsigned.personId!] })).statusCode, 400, 'only leavers on the list');
      assert.equal((await technician.post('/access-register/leavers', { personIds: [user.personId!] })).statusCode, 303);
      assert.doesNotMatch((await technician.get('/access-register/leavers')).body, /Newcombe, Nia/);
      const events = await haven.services.audit.list(schoolId, { action: 'access_register.access_removed' }, 1);
      assert.equal(events.length, 1);
      assert.equal((await technician.post('/access-register/reminders')).statusCode, 403, 'reminders are the e-safety lead’s or head’s');
    });

    it('reminds outstanding staff and parents by the daily job, at most once a week each', async () => {
      const user = await buildUser(haven.services, schoolId, ['staff'], { staffRecord: true, name: 'Pat Pending' });
      const pupil = await haven.services.people.create(
        schoolId,
        { kind: 'pupil', legalFirstName: 'Kit', legalLastName: 'Pending', yearGroup: 3, className: '3P' },
        { schoolId },
      );
      const parent = await buildParentOf(haven.services, schoolId, pupil.id, { firstName: 'Val', lastName: 'Pending' });
      await haven.services.people.update(
        schoolId,
        parent.id,
        { kind: 'parent', legalFirstName: 'Val', legalLastName: 'Pending', email: 'val@fernbrook.test' },
        { schoolId },
      );

      const outboxTo = async (address: string) => (await haven.services.mailer.outbox(schoolId, 1000)).filter((mail) => mail.to_address === address);
      const first = await haven.services.jobs.runNow('agreement-reminders');
      assert.equal(first?.status, 'ok');
      assert.equal((await outboxTo(user.email)).length, 1);
      const parentMail = await outboxTo('val@fernbrook.test');
      assert.equal(parentMail.length, 1);
      assert.match(parentMail[0]!.subject, /sign the ICT agreement for Kit/);
      assert.match(parentMail[0]!.body_text, /\[link withheld from the outbox\]/);
      const notes = await haven.services.notifications.list(schoolId, user.userId);
      assert.match(notes[0]!.title, /sign the staff ICT code of conduct/);

      await haven.services.jobs.runNow('agreement-reminders');
      assert.equal((await outboxTo(user.email)).length, 1, 'not again within the week');
      haven.clock.advance(8 * day);
      await haven.services.jobs.runNow('agreement-reminders');
      assert.equal((await outboxTo(user.email)).length, 2);
      assert.equal((await outboxTo('val@fernbrook.test')).length, 2);
    });
  });
}
