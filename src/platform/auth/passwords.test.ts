import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { schoolSettingsSchema } from '../schools/service.js';
import { checkPasswordRules, createPasswordHasher } from './passwords.js';
import { matchTotp, newTotpSecret, totpCode } from './totp.js';

const defaults = schoolSettingsSchema.parse({});

describe('passwords', () => {
  const hasher = createPasswordHasher({ cost: 10 });

  it('hashes with a per-user salt and verifies only the right password', async () => {
    const first = await hasher.hash('river-stone-lantern');
    const second = await hasher.hash('river-stone-lantern');
    assert.notEqual(first, second);
    assert.match(first, /^scrypt\$10\$8\$1\$/);
    assert.equal(await hasher.verify('river-stone-lantern', first), true);
    assert.equal(await hasher.verify('river-stone-lanterN', first), false);
    assert.equal(await hasher.verify('anything', 'not-a-hash'), false);
  });

  const cases: Array<[string, string, string | null]> = [
    ['accepts three random words', 'river-stone-lantern', null],
    ['refuses a short password', 'short', 'at least 12 characters'],
    ['refuses a common password', 'password1234', 'too common'],
    ['refuses a common password with digits added', 'qwertyuiop123', 'too common'],
    ['refuses the email name inside the password', 'jo.bloggs-is-great', 'must not contain your email'],
    ['refuses the school name', 'FernbrookPrimary!', 'must not contain the school name'],
    ['refuses one repeated character', 'aaaaaaaaaaaaaa', 'one character repeated'],
  ];
  for (const [behaviour, password, problem] of cases) {
    it(behaviour, () => {
      const problems = checkPasswordRules(password, defaults, { email: 'jo.bloggs@fernbrook.test', schoolName: 'Fernbrook Primary' });
      if (problem === null) assert.deepEqual(problems, []);
      else
        assert.ok(
          problems.some((message) => message.includes(problem)),
          problems.join('; '),
        );
    });
  }
});

describe('authenticator codes', () => {
  it('accepts the current code and its neighbours, and says which step matched', () => {
    const secret = newTotpSecret();
    const at = new Date('2026-11-23T09:00:15Z');
    const step = Math.floor(at.getTime() / 30_000);
    assert.equal(matchTotp(secret, totpCode(secret, at), at), step);
    assert.equal(matchTotp(secret, totpCode(secret, new Date(at.getTime() - 30_000)), at), step - 1);
    assert.equal(matchTotp(secret, totpCode(secret, new Date(at.getTime() - 90_000)), at), null);
    assert.equal(matchTotp(secret, '12345', at), null);
    assert.equal(matchTotp(secret, ` ${totpCode(secret, at).slice(0, 3)} ${totpCode(secret, at).slice(3)} `, at), step, 'spaces are ignored');
  });
});
