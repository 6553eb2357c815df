import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-config-'));
  const base = { HAVEN_DATA_DIR: dataDir };

  it('uses development defaults outside production, keeping one generated secret', () => {
    const first = loadConfig(base);
    assert.equal(first.port, 3000);
    assert.equal(first.databaseUrl, undefined);
    assert.equal(first.secret.length, 64);
    assert.equal(loadConfig(base).secret, first.secret, 'the secret is kept in the data directory');
    assert.equal(first.secureCookies, false);
  });

  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    ['a production start without a secret', { NODE_ENV: 'production', PUBLIC_URL: 'https://haven.example.sch.uk' }, /HAVEN_SECRET: required in production/],
    ['a short secret', { HAVEN_SECRET: 'short' }, /HAVEN_SECRET: must be at least 32 characters/],
    ['a non-numeric port', { PORT: 'eighty' }, /PORT: /],
    ['a database URL that is not PostgreSQL', { DATABASE_URL: 'mysql://localhost/haven' }, /DATABASE_URL: must be a postgres:\/\//],
    ['an SMTP URL that is not SMTP', { SMTP_URL: 'http://mail' }, /SMTP_URL: must be an smtp:\/\//],
    ['an unknown NODE_ENV', { NODE_ENV: 'staging' }, /NODE_ENV: /],
  ];
  for (const [what, env, message] of refusals) {
    it(`refuses ${what}, naming the variable`, () => {
      assert.throws(
        () => loadConfig({ ...base, ...env }),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }

  it('selects PostgreSQL and secure cookies from the environment', () => {
    const config = loadConfig({
      ...base,
      DATABASE_URL: 'postgres://haven@db/haven',
      PUBLIC_URL: 'https://haven.example.sch.uk/',
      HAVEN_SECRET: 'x'.repeat(40),
    });
    assert.equal(config.databaseUrl, 'postgres://haven@db/haven');
    assert.equal(config.publicUrl, 'https://haven.example.sch.uk');
    assert.equal(config.secureCookies, true);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
