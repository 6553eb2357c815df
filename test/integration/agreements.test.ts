import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool, buildUser } from '../support/factories.js';

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
      const before = await haven.services.agreements.staffRegister(schoolId);
      assert.deepEqual(
        before
          .filter((entry) => entry.status === 'signed')
          .map((entry) => entry.person.legalFirstName)
          .sort(),
        ['Ana', 'Ben', 'Cy'],
      );

      await publish(templateId, '## Our code\n- Keep passwords private.\n- Report concerns.\n- Lock your screen.');
      const outstanding = await haven.services.agreements.staffRegister(schoolId);
      assert.deepEqual(
        outstanding.filter((entry) => ['Ana', 'Ben', 'Cy'].includes(entry.person.legalFirstName)).map((entry) => entry.status),
        ['signed_earlier_version', 'signed_earlier_version', 'signed_earlier_version'],
      );
      const notifications = await haven.services.notifications.list(schoolId, staff[0]!.user.userId);
      assert.match(notifications[0]!.title, /Please read and sign version \d+ of the staff ICT code of conduct/);
      assert.match((await staff[0]!.agent.get('/agreements/sign')).body, /The agreement has changed: please read it and sign again/);

      assert.equal((await sign(staff[1]!.agent, 'Ben Birch')).statusCode, 303);
      const after = await haven.services.agreements.staffRegister(schoolId);
      const byName = Object.fromEntries(
        after.filter((entry) => ['Ana', 'Ben', 'Cy'].includes(entry.person.legalFirstName)).map((entry) => [entry.person.legalFirstName, entry.status]),
      );
      assert.deepEqual(byName, { Ana: 'signed_earlier_version', Ben: 'signed', Cy: 'signed_earlier_version' });
      const page = await lead.get('/access-register?status=signed');
      assert.match(page.body, /Birch, Ben/);
      assert.doesNotMatch(page.body, /Ash, Ana/);
      const csv = await lead.get('/access-register.csv');
      assert.match(csv.body, /"Birch, Ben",staff,Teacher,yes,Signed the current version,3,3,/);
      assert.match(csv.body, /"Ash, Ana",staff,Teacher,no,Signed an earlier version,2,3,/);
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
      assert.equal((await agent.get('/access-register')).statusCode, 403);
    });
  });
}
