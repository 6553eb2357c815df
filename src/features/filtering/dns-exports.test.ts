import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { blockedDomainsFor, exportFor, pruneCovered } from './dns-exports.js';
import type { FilterModel } from './model.js';

const now = Date.parse('2026-11-23T10:00:00Z');
const hour = 3_600_000;

const model: FilterModel = {
  version: 'v7',
  timeZone: 'Europe/London',
  categories: [
    { code: 'csam', name: 'Illegal', illegal: true },
    { code: 'games', name: 'Games', illegal: false },
    { code: 'social', name: 'Social', illegal: false },
  ],
  lists: [
    { id: 'iwf', kind: 'category', category: 'csam', domains: ['illegal.example'], urls: ['host.example/bad'] },
    {
      id: 'games',
      kind: 'category',
      category: 'games',
      domains: ['games.example', 'sub.games.example', 'play.example', 'excepted.example'],
      urls: ['videos.example/games'],
    },
    { id: 'social', kind: 'category', category: 'social', domains: ['social.example'], urls: [] },
    { id: 'ks2-allow', kind: 'allow', domains: ['play.example', 'illegal.example', 'both.example'], urls: [] },
    { id: 'ks2-deny', kind: 'deny', domains: ['both.example', 'extra.example'], urls: [] },
    { id: 'eyfs-allow', kind: 'allow', domains: ['learning.example', 'illegal.example', 'denied.example'], urls: [] },
    { id: 'eyfs-deny', kind: 'deny', domains: ['denied.example'], urls: [] },
  ],
  policies: [
    {
      group: 'KS2',
      name: 'Key stage 2',
      blockedCategories: ['games', 'social'],
      allowListOnly: false,
      safeSearch: true,
      allowListId: 'ks2-allow',
      denyListId: 'ks2-deny',
    },
    {
      group: 'EYFS',
      name: 'Early years',
      blockedCategories: ['games'],
      allowListOnly: true,
      safeSearch: true,
      allowListId: 'eyfs-allow',
      denyListId: 'eyfs-deny',
    },
    { group: 'staff', name: 'Staff', blockedCategories: [], allowListOnly: false, safeSearch: false },
  ],
  exceptions: [
    { id: 'e1', group: 'KS2', domain: 'excepted.example', startsAt: now - hour, endsAt: now + hour },
    { id: 'e2', group: 'KS2', category: 'social', startsAt: now + hour, endsAt: now + 2 * hour },
    { id: 'e3', group: 'staff', domain: 'games.example', startsAt: now - hour, endsAt: now + hour },
  ],
  networks: [],
  users: [],
  defaultGroups: ['KS2'],
  blockPageUrl: 'http://haven.test/blocked/x',
};

const dir = mkdtempSync(join(tmpdir(), 'haven-exports-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('DNS and proxy exports', () => {
  it('works out what a group cannot reach: illegal always, deny beats allow, exceptions only in their period and group', () => {
    assert.deepEqual(blockedDomainsFor(model, 'KS2', now), ['both.example', 'extra.example', 'games.example', 'illegal.example', 'social.example']);
    assert.ok(blockedDomainsFor(model, 'KS2', now + 2 * hour).includes('excepted.example'), 'the exception has ended');
    assert.ok(!blockedDomainsFor(model, 'KS2', now + 90 * 60_000).includes('social.example'), 'the category exception is in force');
    assert.deepEqual(blockedDomainsFor(model, 'staff', now), ['illegal.example'], 'the staff exception does not lift illegal content');
  });

  it('drops entries covered by a parent, and leaves URL entries out', () => {
    assert.deepEqual(pruneCovered(['a.example', 'b.a.example', 'c.b.a.example', 'xa.example']), ['a.example', 'xa.example']);
    const text = exportFor(model, 'KS2', 'squid-acl', now);
    assert.doesNotMatch(text, /sub\.games\.example/);
    assert.doesNotMatch(text, /videos\.example/);
    assert.match(text, /^# Web-address \(URL\) entries cannot be enforced by DNS/m);
  });

  it('writes every format with a header, and refuses a walled garden where the format cannot say "everything except"', () => {
    const rpz = exportFor(model, 'KS2', 'rpz', now, { serial: 42 });
    assert.match(rpz, /^games\.example CNAME \.$/m);
    assert.match(rpz, /^\*\.games\.example CNAME \.$/m);
    assert.match(rpz, /^www\.google\.com CNAME forcesafesearch\.google\.com\.$/m);
    assert.match(exportFor(model, 'KS2', 'hosts', now), /^0\.0\.0\.0 www\.games\.example$/m);
    assert.match(exportFor(model, 'KS2', 'dnsmasq', now), /^address=\/games\.example\/0\.0\.0\.0$/m);
    assert.match(exportFor(model, 'KS2', 'unbound', now), /^ {2}local-zone: "games\.example\." always_nxdomain$/m);
    const adblock = exportFor(model, 'KS2', 'adblock', now);
    assert.match(adblock, /^\[Adblock Plus 2\.0\]\n/);
    assert.match(adblock, /^\|\|games\.example\^$/m);
    const walled = exportFor(model, 'EYFS', 'rpz', now);
    assert.match(walled, /^\* CNAME \.$/m);
    assert.match(walled, /^learning\.example CNAME rpz-passthru\.$/m);
    assert.doesNotMatch(walled, /illegal\.example CNAME rpz-passthru/, 'never passes illegal content through');
    assert.doesNotMatch(walled, /denied\.example CNAME rpz-passthru/, 'deny beats allow in a walled garden too');
    assert.throws(() => exportFor(model, 'EYFS', 'hosts', now), /walled garden/);
    assert.throws(() => exportFor(model, 'nobody', 'rpz', now), /no policy/);
  });

  const checkzone = ['/usr/bin/named-checkzone', '/usr/sbin/named-checkzone'].find((path) => existsSync(path));
  it(
    'writes RPZ zones that load in BIND (named-checkzone)',
    { skip: checkzone ? false : 'named-checkzone is not installed (apt-get install bind9-utils)' },
    () => {
      for (const group of ['KS2', 'EYFS', 'staff']) {
        const file = join(dir, `${group}.rpz`);
        writeFileSync(file, exportFor(model, group, 'rpz', now, { serial: 2026112301 }));
        const result = spawnSync(checkzone!, ['-i', 'local', 'rpz.haven.test', file], { encoding: 'utf8' });
        assert.equal(result.status, 0, `${group}: ${result.stdout}${result.stderr}`);
        assert.match(result.stdout, /OK/);
      }
    },
  );

  const squid = ['/usr/sbin/squid', '/usr/bin/squid'].find((path) => existsSync(path));
  it('writes a Squid ACL file that Squid loads without complaint (squid -k parse)', { skip: squid ? false : 'Squid is not installed' }, () => {
    const acl = join(dir, 'ks2.acl');
    writeFileSync(acl, exportFor(model, 'KS2', 'squid-acl', now));
    const conf = join(dir, 'squid.conf');
    writeFileSync(
      conf,
      [
        `acl haven_blocked dstdomain "${acl}"`,
        'http_access deny haven_blocked',
        'http_access allow all',
        'http_port 127.0.0.1:3999',
        `pid_filename ${join(dir, 'squid.pid')}`,
        `cache_log ${join(dir, 'cache.log')}`,
      ].join('\n'),
    );
    const result = spawnSync(squid!, ['-k', 'parse', '-f', conf], { encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`;
    assert.equal(result.status, 0, output);
    assert.doesNotMatch(output, /ERROR|WARNING: .*(subdomain|ignoring)/i, output);
    assert.match(output, /haven_blocked|Processing: acl haven_blocked/);
  });

  const dnsmasq = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((path) => existsSync(path));
  it('writes a dnsmasq file that dnsmasq accepts (dnsmasq --test)', { skip: dnsmasq ? false : 'dnsmasq is not installed' }, () => {
    const file = join(dir, 'ks2.dnsmasq');
    writeFileSync(file, exportFor(model, 'KS2', 'dnsmasq', now));
    const result = spawnSync(dnsmasq!, ['--test', `--conf-file=${file}`], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });
});
