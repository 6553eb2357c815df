import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { totpCode } from '../../src/platform/auth/totp.js';
import { chromiumAvailable, launchChromium, startTestServer } from '../support/browser.js';

const available = chromiumAvailable();

/** Waits until the authenticator shows a code for a later 30-second step than `usedStep` (codes are single-use). */
async function freshCode(secret: string, usedStep: number): Promise<{ code: string; step: number }> {
  while (Math.floor(Date.now() / 30_000) <= usedStep) await new Promise((resolve) => setTimeout(resolve, 250));
  return { code: totpCode(secret, new Date()), step: Math.floor(Date.now() / 30_000) };
}

async function signOut(page: Page) {
  await page.click('[data-qa=sign-out]');
  await page.waitForURL(/\/sign-in$/);
}

describe('first run in a real browser', { skip: !available }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  it('sets up a school, enrols TOTP, signs in with password and code, invites a teacher who accepts and signs in', async () => {
    const head = await browser.newPage();
    await head.goto(server.url);
    await head.waitForURL(/\/setup$/);
    await head.fill('#schoolName', 'Kestrel Lane Primary');
    await head.fill('#urn', '654321');
    await head.fill('#headName', 'Alex Quarry');
    await head.fill('#email', 'alex.quarry@kestrel.test');
    await head.fill('#password', 'bright-kestrel-morning');
    await head.click('[data-qa=create-school]');
    await head.waitForURL(/\/account\/two-factor\/setup$/);
    assert.ok(await head.locator('.haven-qr svg').isVisible(), 'the QR code is shown');

    const secret = (await head.textContent('[data-qa=totp-secret]'))!.trim();
    let used = Math.floor(Date.now() / 30_000);
    await head.fill('#code', totpCode(secret, new Date()));
    await head.click('[data-qa=confirm-totp]');
    assert.equal(await head.locator('[data-qa=recovery-codes] li').count(), 10);
    await head.click('[data-qa=continue]');
    await head.waitForURL(`${server.url}/`);
    await signOut(head);

    await head.fill('#email', 'alex.quarry@kestrel.test');
    await head.fill('#password', 'bright-kestrel-morning');
    await head.click('[data-qa=sign-in]');
    await head.waitForURL(/\/sign-in\/two-factor/);
    const fresh = await freshCode(secret, used);
    used = fresh.step;
    await head.fill('#code', fresh.code);
    await head.click('[data-qa=submit-code]');
    await head.waitForURL(`${server.url}/`);
    assert.match((await head.textContent('h1'))!, /Kestrel Lane Primary/);

    await head.goto(`${server.url}/admin/users/new`);
    await head.fill('#displayName', 'Sam Meadows');
    await head.fill('#email', 'sam.meadows@kestrel.test');
    await head.click('[data-qa=send-invitation]');
    const link = (await head.textContent('[data-qa=invitation-link]'))!.trim();
    assert.ok(link.startsWith(`${server.url}/invitations/`));
    await signOut(head);

    const teacherContext = await browser.newContext();
    const teacher = await teacherContext.newPage();
    await teacher.goto(link);
    await teacher.fill('#password', 'silver-birch-lantern');
    await teacher.fill('#confirmPassword', 'silver-birch-lantern');
    await teacher.click('[data-qa=accept-invitation]');
    await teacher.waitForURL(`${server.url}/`);
    assert.match((await teacher.textContent('main'))!, /Welcome, Sam Meadows/);
    await signOut(teacher);
    await teacher.fill('#email', 'sam.meadows@kestrel.test');
    await teacher.fill('#password', 'silver-birch-lantern');
    await teacher.click('[data-qa=sign-in]');
    await teacher.waitForURL(`${server.url}/`);
    assert.match((await teacher.textContent('main'))!, /Welcome, Sam Meadows/);
    // A teacher is not offered the accounts page, and is refused it.
    assert.equal(await teacher.locator('[data-qa=navigation] a[href="/admin/users"]').count(), 0);
    const refused = await teacher.goto(`${server.url}/admin/users`);
    assert.equal(refused?.status(), 403);
    if (process.env.HAVEN_SCREENSHOTS) await teacher.screenshot({ path: `${process.env.HAVEN_SCREENSHOTS}/teacher-refused.png`, fullPage: true });
    await teacherContext.close();
  });
});
