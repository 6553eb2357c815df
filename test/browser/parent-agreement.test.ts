import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { setUpSchool } from '../../src/features/setup/service.js';
import { chromiumAvailable, launchChromium, startTestServer } from '../support/browser.js';

const available = chromiumAvailable();

describe('a parent signs for their child without an account, in a real browser', { skip: !available }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  let link = '';

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    const { services } = server;
    const { school } = await setUpSchool(services, {
      schoolName: 'Larch Road Primary',
      urn: '',
      headName: 'Ray Larch',
      headEmail: 'head@larch.test',
      password: 'quiet-larch-morning',
    });
    const context = { schoolId: school.id };
    const pupil = await services.people.create(
      school.id,
      { kind: 'pupil', legalFirstName: 'Ivy', legalLastName: 'Moss', yearGroup: 0, className: 'RB' },
      context,
    );
    const parent = await services.people.create(school.id, { kind: 'parent', legalFirstName: 'Jo', legalLastName: 'Moss' }, context);
    await services.handle.db
      .transaction()
      .execute((trx) =>
        services.people.linkGuardian(trx, school.id, { parentId: parent.id, pupilId: pupil.id, relationship: 'Mother', parentalResponsibility: true }, context),
      );
    link = await services.agreements.issueParentLink(context, pupil.id, parent.id);
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  it('opens the link, signs, and the same link then refuses; a tampered link is refused', async () => {
    const page = await browser.newPage();
    await page.goto(link);
    assert.match((await page.textContent('h1'))!, /Parent and carer agreement/);
    assert.match((await page.textContent('main'))!, /For Ivy Moss/);
    await page.getByLabel('I have read this agreement and I agree to it on behalf of my child').check();
    await page.fill('#fullName', 'Jo Moss');
    await page.click('[data-qa=parent-sign]');
    assert.match((await page.textContent('[data-qa=parent-signed]'))!, /record of your signature/);
    const again = await page.goto(link);
    assert.equal(again?.status(), 404);
    assert.match((await page.textContent('main'))!, /already been used/);
    const tampered = await page.goto(`${link.slice(0, -3)}xyz`);
    assert.equal(tampered?.status(), 404);
    assert.match((await page.textContent('main'))!, /This link is not valid/);
  });
});
