import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { setUpSchool } from '../../src/features/setup/service.js';
import { newTotpSecret, totpCode } from '../../src/platform/auth/totp.js';
import { chromiumAvailable, launchChromium, startTestServer } from '../support/browser.js';

const available = chromiumAvailable();

describe('a concern from report to closure in a real browser', { skip: !available }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  const password = 'amber-willow-harbour';
  let dslSecret = '';

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    const { services } = server;
    const { school } = await setUpSchool(services, {
      schoolName: 'Wren Hill Primary',
      urn: '',
      headName: 'Jo Wren',
      headEmail: 'head@wrenhill.test',
      password,
    });
    const context = { schoolId: school.id };
    await services.handle.db.transaction().execute(async (trx) => {
      await services.users.createWithPassword(
        trx,
        school.id,
        { displayName: 'Taylor Teach', email: 'teacher@wrenhill.test', roles: ['staff'], password },
        context,
      );
      const dslId = await services.users.createWithPassword(
        trx,
        school.id,
        { displayName: 'Dana Lead', email: 'dsl@wrenhill.test', roles: ['dsl', 'staff'], password },
        context,
      );
      dslSecret = newTotpSecret();
      await services.auth.enrolSecret(trx, school.id, dslId, dslSecret);
    });
    await services.people.create(school.id, { kind: 'pupil', legalFirstName: 'Ruby', legalLastName: 'Marsh', yearGroup: 4, className: '4W' }, context);
    await services.people.create(school.id, { kind: 'pupil', legalFirstName: 'Otto', legalLastName: 'Beck', yearGroup: 4, className: '4W' }, context);
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  async function signIn(page: Page, email: string, secret?: string) {
    await page.goto(`${server.url}/sign-in`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('[data-qa=sign-in]');
    if (secret) {
      await page.waitForURL(/two-factor/);
      await page.fill('#code', totpCode(secret, new Date()));
      await page.click('[data-qa=submit-code]');
    }
    await page.waitForURL(`${server.url}/`);
  }

  it('a teacher reports a concern and the DSL takes it through the internal track to closure', async () => {
    const teacherContext = await browser.newContext();
    const teacher = await teacherContext.newPage();
    await signIn(teacher, 'teacher@wrenhill.test');
    await teacher.click('[data-qa=report-concern]');
    await teacher.waitForURL(/\/concerns\/new$/);
    await teacher.fill('#location', 'Year 4 classroom');
    await teacher.getByLabel('Cyberbullying').check();
    await teacher.selectOption('#person-0', { label: 'Marsh, Ruby — Year 4 4W' });
    await teacher.selectOption('#role-0', 'victim');
    await teacher.selectOption('#person-1', { label: 'Beck, Otto — Year 4 4W' });
    await teacher.selectOption('#role-1', 'instigator');
    await teacher.fill('#whatHappened', 'Ruby showed me messages in a class group chat calling her names.');
    await teacher.fill('#immediateAction', 'Reassured Ruby; asked her not to delete the messages.');
    await teacher.click('[data-qa=send-report]');
    const reference = (await teacher.textContent('[data-qa=reference]'))!.trim();
    assert.match(reference, /^ES-\d{4}-0001$/);
    await teacher.goto(`${server.url}/concerns/mine`);
    assert.match((await teacher.textContent('[data-qa=my-reports]'))!, new RegExp(`${reference}[\\s\\S]*Received`));
    await teacherContext.close();

    const dslContext = await browser.newContext();
    const dsl = await dslContext.newPage();
    await signIn(dsl, 'dsl@wrenhill.test', dslSecret);
    assert.equal((await dsl.textContent('[data-qa=new-count]'))!.trim(), '1');
    await dsl.goto(`${server.url}/notifications`);
    await dsl.click(`text=New concern ${reference}`);
    await dsl.waitForURL(/\/incidents\/[0-9a-f-]+$/);
    const incidentUrl = dsl.url();
    await dsl.getByLabel('Medium').check();
    await dsl.fill('#severityReason', 'Name-calling in a class chat, first report');
    await dsl.getByLabel('No — follow the internal track').check();
    await dsl.click('[data-qa=save-triage]');
    await dsl.waitForURL(incidentUrl);
    assert.match((await dsl.textContent('[data-qa=status]'))!, /Internal track/);

    await dsl.click('[data-qa=start-debrief]');
    assert.match((await dsl.textContent('.govuk-error-summary'))!, /required steps are still open/);

    for (;;) {
      const next = dsl.locator('button[data-qa^="done-"]').first();
      if ((await next.count()) === 0) break;
      const form = next.locator('xpath=ancestor::form');
      await form.locator('input[name=note]').fill('Done in person');
      await next.click();
      await dsl.waitForLoadState('load');
    }
    await dsl.click('[data-qa=start-debrief]');
    await dsl.fill('#lessonsLearnt', 'Class 4W to revisit the rules for group chats.');
    await dsl.click('[data-qa=close]');
    await dsl.waitForURL(incidentUrl);
    assert.match((await dsl.textContent('[data-qa=status]'))!, /Closed/);
    assert.equal(await dsl.locator('button[data-qa^="done-"]').count(), 0, 'closed incidents offer no changes');
    if (process.env.HAVEN_SCREENSHOTS) await dsl.screenshot({ path: `${process.env.HAVEN_SCREENSHOTS}/incident-closed.png`, fullPage: true });
    await dslContext.close();
  });
});
