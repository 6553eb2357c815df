import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCode } from '../../src/platform/auth/totp.js';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { startSmtpServer } from '../support/smtp.js';
import { buildSchool, buildUser, testPassword } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`sign-in and sessions (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('sets up the first school from the set-up page and goes straight to two-factor enrolment', async () => {
      const agent = new TestAgent(haven.app);
      assert.equal((await agent.get('/')).location?.startsWith('/sign-in'), true);
      assert.equal((await agent.get('/sign-in')).location, '/setup');
      const form = await agent.get('/setup');
      assert.match(form.body, /Set up Haven/);
      const weak = await agent.post('/setup', {
        schoolName: 'Larkspur Primary',
        urn: '',
        headName: 'Jo Penrose',
        headEmail: 'jo@larkspur.test',
        password: 'password',
      });
      assert.equal(weak.statusCode, 400);
      assert.match(weak.body, /at least 12 characters/);
      assert.match(weak.body, /govuk-error-summary/);
      const created = await agent.post('/setup', {
        schoolName: 'Larkspur Primary',
        urn: '123456',
        headName: 'Jo Penrose',
        headEmail: 'jo@larkspur.test',
        password: testPassword,
      });
      assert.equal(created.location, '/account/two-factor/setup');
      // Until enrolment is done, every other page sends the head back to it.
      assert.equal((await agent.get('/people')).location, '/account/two-factor/setup');
      const enrol = await agent.get('/account/two-factor/setup');
      const secret = /data-qa="totp-secret">([A-Z2-7]+)</.exec(enrol.body)?.[1];
      assert.ok(secret, 'the enrolment page shows the key');
      const wrong = await agent.post('/account/two-factor/setup', { code: '000000' });
      assert.equal(wrong.statusCode, 400);
      const done = await agent.post('/account/two-factor/setup', { code: totpCode(secret, haven.clock()) });
      assert.equal(done.statusCode, 200);
      const codes = done.body.match(/<li>([a-z0-9]{4}-[a-z0-9]{4})<\/li>/g);
      assert.equal(codes?.length, 10, 'ten recovery codes are shown once');
      assert.equal((await agent.get('/people')).statusCode, 200);
      // A second set-up is refused once a school exists.
      assert.equal((await new TestAgent(haven.app).get('/setup')).location, '/sign-in');
    });

    it('needs password and code for two-factor roles, and refuses a replayed code', async () => {
      const { head } = await buildSchool(haven.services);
      const agent = new TestAgent(haven.app);
      const first = await agent.post('/sign-in', { email: head.email, password: head.password });
      assert.match(first.location ?? '', /^\/sign-in\/two-factor/);
      assert.equal((await agent.get('/people')).location, '/sign-in/two-factor');
      const code = totpCode(head.totpSecret, haven.clock());
      assert.equal((await agent.post('/sign-in/two-factor', { code, next: '/people' })).location, '/people');
      assert.equal((await agent.get('/people')).statusCode, 200);

      const again = new TestAgent(haven.app);
      await again.post('/sign-in', { email: head.email, password: head.password });
      const replay = await again.post('/sign-in/two-factor', { code });
      assert.equal(replay.statusCode, 400, 'the same code cannot be used twice');
      haven.clock.advance(30_000);
      assert.equal((await again.post('/sign-in/two-factor', { code: totpCode(head.totpSecret, haven.clock()) })).location, '/');
    });

    it('accepts a recovery code once', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const dsl = await buildUser(haven.services, schoolId, ['dsl'], { twoFactor: true });
      const agent = new TestAgent(haven.app);
      await agent.signIn(dsl.email, dsl.password, dsl.totpSecret, haven.clock);
      // Enrol afresh through the pages to be handed recovery codes.
      await haven.services.users.resetTwoFactor(schoolId, dsl.userId, { schoolId });
      const enrolling = new TestAgent(haven.app);
      assert.equal((await enrolling.post('/sign-in', { email: dsl.email, password: dsl.password })).location, '/account/two-factor/setup');
      const page = await enrolling.get('/account/two-factor/setup');
      const secret = /data-qa="totp-secret">([A-Z2-7]+)</.exec(page.body)![1]!;
      haven.clock.advance(30_000);
      const done = await enrolling.post('/account/two-factor/setup', { code: totpCode(secret, haven.clock()) });
      const recovery = /<li>([a-z0-9]{4}-[a-z0-9]{4})<\/li>/.exec(done.body)![1]!;
      const viaRecovery = new TestAgent(haven.app);
      await viaRecovery.post('/sign-in', { email: dsl.email, password: dsl.password });
      assert.equal((await viaRecovery.post('/sign-in/two-factor', { code: recovery })).location, '/');
      const reuse = new TestAgent(haven.app);
      await reuse.post('/sign-in', { email: dsl.email, password: dsl.password });
      assert.equal((await reuse.post('/sign-in/two-factor', { code: recovery })).statusCode, 400);
    });

    it('locks an account for a while after five wrong passwords, and audits it', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const agent = new TestAgent(haven.app);
      for (let attempt = 1; attempt <= 5; attempt += 1) {
        const wrong = await agent.post('/sign-in', { email: teacher.email, password: `wrong-password-${attempt}` });
        assert.equal(wrong.statusCode, 401);
        assert.match(wrong.body, /Enter a correct email address and password/);
      }
      const locked = await agent.post('/sign-in', { email: teacher.email, password: teacher.password });
      assert.equal(locked.statusCode, 429);
      assert.match(locked.body, /locked/);
      const events = await haven.services.audit.list(schoolId, { action: 'auth.' }, 1);
      assert.ok(events.some((event) => event.action === 'auth.locked_out'));
      assert.ok(events.some((event) => event.action === 'auth.sign_in_refused_locked'));
      haven.clock.advance(16 * 60_000);
      assert.equal((await agent.post('/sign-in', { email: teacher.email, password: teacher.password })).location, '/');
    });

    it('locks the account after five wrong two-factor codes, ending the half-signed-in session', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const dsl = await buildUser(haven.services, schoolId, ['dsl'], { twoFactor: true });
      const agent = new TestAgent(haven.app);
      await agent.post('/sign-in', { email: dsl.email, password: dsl.password });
      for (let attempt = 1; attempt <= 4; attempt += 1) assert.equal((await agent.post('/sign-in/two-factor', { code: '000000' })).statusCode, 400);
      const locked = await agent.post('/sign-in/two-factor', { code: '000000' });
      assert.equal(locked.statusCode, 429);
      assert.match(locked.body, /locked for 15 minutes/);
      assert.match((await agent.get('/sign-in/two-factor')).location ?? '', /^\/sign-in/);
      const again = await new TestAgent(haven.app).post('/sign-in', { email: dsl.email, password: dsl.password });
      assert.equal(again.statusCode, 429, 'the password alone does not get past the lock');
      const events = await haven.services.audit.list(schoolId, { action: 'auth.locked_out' }, 1);
      assert.equal(events.length, 1);
    });

    it('limits sign-in and recovery attempts from one address', async () => {
      // Its own app: the limit would otherwise spill into the other tests.
      const fresh = await buildTestHaven(dialect);
      try {
        await buildSchool(fresh.services);
        const agent = new TestAgent(fresh.app);
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 121; attempt += 1)
          statuses.push((await agent.post('/password-reset', { email: `nobody-${attempt}@fernbrook.test` })).statusCode);
        assert.deepEqual([...new Set(statuses.slice(0, 120))], [200]);
        assert.equal(statuses[120], 429);
        const limited = await agent.post('/sign-in', { email: 'x@fernbrook.test', password: 'y' });
        assert.equal(limited.statusCode, 401, 'sign-in has its own allowance: a wrong password, not a limit');
      } finally {
        await fresh.close();
      }
    });

    it('ends a session after 15 idle minutes', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const agent = new TestAgent(haven.app);
      await agent.signIn(teacher.email, teacher.password);
      haven.clock.advance(14 * 60_000);
      assert.equal((await agent.get('/account')).statusCode, 200, 'still signed in after 14 minutes');
      haven.clock.advance(14 * 60_000);
      assert.equal((await agent.get('/account')).statusCode, 200, 'activity resets the idle timer');
      haven.clock.advance(16 * 60_000);
      assert.match((await agent.get('/account')).location ?? '', /^\/sign-in/);
    });

    it('stops a disabled user’s existing session on the next request', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const teacherAgent = new TestAgent(haven.app);
      await teacherAgent.signIn(teacher.email, teacher.password);
      assert.equal((await teacherAgent.get('/account')).statusCode, 200);
      const headAgent = new TestAgent(haven.app);
      haven.clock.advance(30_000);
      await headAgent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      assert.equal((await headAgent.post(`/admin/users/${teacher.userId}/disable`)).statusCode, 303);
      assert.match((await teacherAgent.get('/account')).location ?? '', /^\/sign-in/);
      const retry = await teacherAgent.post('/sign-in', { email: teacher.email, password: teacher.password });
      assert.equal(retry.statusCode, 401);
    });

    it('signs out everywhere', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const laptop = new TestAgent(haven.app);
      const phone = new TestAgent(haven.app);
      await laptop.signIn(teacher.email, teacher.password);
      await phone.signIn(teacher.email, teacher.password);
      assert.equal((await laptop.post('/account/sign-out-everywhere')).location, '/sign-in');
      assert.match((await phone.get('/account')).location ?? '', /^\/sign-in/);
    });

    it('refuses a state-changing form without a valid CSRF token', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const agent = new TestAgent(haven.app);
      await agent.signIn(teacher.email, teacher.password);
      const forged = await agent.post('/account/sign-out-everywhere', {}, { csrf: false });
      assert.equal(forged.statusCode, 403);
      assert.match(forged.body, /form session has expired/);
      const wrongToken = await agent.request('POST', '/account/sign-out-everywhere', { form: { _csrf: 'not-a-token' } });
      assert.equal(wrongToken.statusCode, 403);
      assert.equal((await agent.get('/account')).statusCode, 200, 'still signed in: nothing happened');
    });

    it('invites a teacher by a single-use link, which then refuses reuse clearly', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const headAgent = new TestAgent(haven.app);
      await headAgent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      const invited = await headAgent.post('/admin/users', { displayName: 'Sam Teacher', email: 'sam.teacher@fernbrook.test', roles: ['staff'] });
      assert.equal(invited.statusCode, 200);
      const link = /data-qa="invitation-link">([^<]+)</.exec(invited.body)?.[1];
      assert.ok(link?.startsWith('http://haven.test/invitations/'));
      const outbox = await haven.services.mailer.outbox(schoolId);
      assert.ok(outbox.some((mail) => mail.to_address === 'sam.teacher@fernbrook.test' && mail.body_text.includes(link!)));
      const path = new URL(link!).pathname;
      const teacher = new TestAgent(haven.app);
      assert.match((await teacher.get(path)).body, /Set your password/);
      const mismatch = await teacher.post(path, { password: 'maple-orchard-river', confirmPassword: 'maple-orchard-rivers' });
      assert.equal(mismatch.statusCode, 400);
      assert.equal((await teacher.post(path, { password: 'maple-orchard-river', confirmPassword: 'maple-orchard-river' })).location, '/');
      assert.equal((await teacher.get('/account')).statusCode, 200);
      const reused = await new TestAgent(haven.app).get(path);
      assert.equal(reused.statusCode, 404);
      assert.match(reused.body, /already been used/);
      const tampered = await new TestAgent(haven.app).get(`${path.slice(0, -3)}abc`);
      assert.match(tampered.body, /not valid/);
    });

    it('refuses an expired invitation with a clear page', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const { link } = await haven.services.users.invite(
        schoolId,
        { displayName: 'Late Starter', email: `late-${Date.now()}@fernbrook.test`, roles: ['staff'] },
        { schoolId, actor: { kind: 'user', schoolId, userId: head.userId, displayName: 'Head', roles: ['headteacher'] } },
      );
      haven.clock.advance(8 * 24 * 3_600_000);
      const page = await new TestAgent(haven.app).get(new URL(link).pathname);
      assert.equal(page.statusCode, 404);
      assert.match(page.body, /expired/);
    });

    it('resets a forgotten password by an emailed link, keeps the link out of the outbox, and ends old sessions', async () => {
      const smtp = await startSmtpServer();
      const mailing = await buildTestHaven(dialect, { smtpUrl: smtp.url });
      try {
        const { schoolId } = await buildSchool(mailing.services);
        const teacher = await buildUser(mailing.services, schoolId, ['staff']);
        const old = new TestAgent(mailing.app);
        await old.signIn(teacher.email, teacher.password);
        const agent = new TestAgent(mailing.app);
        const unknown = await agent.post('/password-reset', { email: 'nobody@fernbrook.test' });
        const known = await agent.post('/password-reset', { email: teacher.email });
        const page = (body: string) => body.replace(/(value|nonce)="[^"]+"/g, '');
        assert.ok(page(unknown.body) === page(known.body), 'the answer does not reveal accounts');
        const mail = await smtp.waitFor(teacher.email);
        assert.equal(mail.subject, 'Reset your Haven password');
        const link = /http:\/\/haven\.test\/password-reset\/\S+/.exec(mail.text)![0];
        // The SMTP server has the message before the mailer records it as sent: wait for the record.
        let kept = (await mailing.services.mailer.outbox(schoolId)).find((message) => message.to_address === teacher.email)!;
        for (let attempt = 0; attempt < 100 && !kept.sent_at; attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          kept = (await mailing.services.mailer.outbox(schoolId)).find((message) => message.to_address === teacher.email)!;
        }
        assert.ok(kept.sent_at, 'sent through SMTP');
        assert.doesNotMatch(kept.body_text, /password-reset\//, 'the outbox never keeps a reset link');
        const path = new URL(link).pathname;
        const reused = await agent.post(path, { password: teacher.password, confirmPassword: teacher.password });
        assert.equal(reused.statusCode, 400, 'the previous password cannot be reused');
        assert.match(reused.body, /last 5 passwords/);
        assert.equal((await agent.post(path, { password: 'quiet-meadow-compass', confirmPassword: 'quiet-meadow-compass' })).statusCode, 200);
        assert.match((await old.get('/account')).location ?? '', /^\/sign-in/);
        assert.equal((await new TestAgent(mailing.app).signIn(teacher.email, 'quiet-meadow-compass')).location, '/');
        assert.equal((await agent.get(path)).statusCode, 404, 'the link works once');
      } finally {
        await mailing.close();
        await smtp.close();
      }
    });

    it('sends people to change an expired password when the school turns expiry on', async () => {
      const { schoolId, school } = await buildSchool(haven.services);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      await haven.services.schools.updateSettings(haven.services.handle.db, schoolId, { ...school.settings, passwordExpiryDays: 30 });
      haven.clock.advance(31 * 24 * 3_600_000);
      const agent = new TestAgent(haven.app);
      await agent.signIn(teacher.email, teacher.password);
      assert.equal((await agent.get('/people')).location, '/account/password?expired=1');
      assert.match((await agent.get('/account/password?expired=1')).body, /has expired/);
    });
  });
}
