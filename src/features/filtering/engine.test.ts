import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSnapshot } from './compile.js';
import { FilterEngine, loadSnapshot, readBlockToken } from './engine.js';
import type { FilterModel } from './model.js';

const hour = 3_600_000;
const now = Date.parse('2026-11-23T10:00:00Z'); // a Monday, 10:00 in London

function model(overrides: Partial<FilterModel> = {}): FilterModel {
  return {
    version: 'v1',
    timeZone: 'Europe/London',
    categories: [
      { code: 'csam', name: 'Child sexual abuse content (IWF)', illegal: true },
      { code: 'pornography', name: 'Pornography', illegal: false },
      { code: 'games', name: 'Games', illegal: false },
      { code: 'social', name: 'Social networking', illegal: false },
      { code: 'education', name: 'Education', illegal: false },
    ],
    lists: [
      { id: 'iwf', kind: 'category', category: 'csam', domains: ['illegal.example'], urls: ['host.example/bad/page'] },
      { id: 'porn', kind: 'category', category: 'pornography', domains: ['adult.example', 'example.com'], urls: [] },
      { id: 'games', kind: 'category', category: 'games', domains: ['games.example', 'play.adult.example'], urls: ['videos.example/games'] },
      { id: 'social', kind: 'category', category: 'social', domains: ['social.example', 'xn--bcher-kva.example'], urls: [] },
      { id: 'edu', kind: 'category', category: 'education', domains: ['learn.example'], urls: [] },
      { id: 'ks2-allow', kind: 'allow', domains: ['social.example', 'illegal.example'], urls: [] },
      { id: 'ks2-deny', kind: 'deny', domains: ['learn.example', 'social.example'], urls: [] },
      { id: 'eyfs-allow', kind: 'allow', domains: ['learn.example', 'cbeebies.example'], urls: [] },
    ],
    policies: [
      { group: 'staff', name: 'Staff', blockedCategories: ['pornography'], allowListOnly: false, safeSearch: false },
      {
        group: 'KS2',
        name: 'Key stage 2',
        blockedCategories: ['pornography', 'games', 'social'],
        allowListOnly: false,
        safeSearch: true,
        allowListId: 'ks2-allow',
        denyListId: 'ks2-deny',
        timeWindows: [{ days: [1, 2, 3, 4, 5], from: 12 * 60, to: 13 * 60, allowCategories: ['games'] }],
      },
      {
        group: 'EYFS',
        name: 'Early years',
        blockedCategories: ['pornography', 'games', 'social'],
        allowListOnly: true,
        safeSearch: true,
        allowListId: 'eyfs-allow',
      },
      { group: 'uncleared', name: 'Not cleared', blockedCategories: ['pornography', 'games', 'social'], allowListOnly: true, safeSearch: true },
    ],
    exceptions: [
      { id: 'exc-games', group: 'staff', domain: 'games.example', startsAt: now - hour, endsAt: now + hour },
      { id: 'exc-social', group: 'KS2', category: 'social', startsAt: now + hour, endsAt: now + 2 * hour },
      { id: 'exc-illegal', group: 'staff', domain: 'illegal.example', startsAt: now - hour, endsAt: now + hour },
      { id: 'exc-csam', group: 'staff', category: 'csam', startsAt: now - hour, endsAt: now + hour },
      { id: 'exc-videos', group: 'KS2', url: 'videos.example/games/maths', startsAt: now - hour, endsAt: now + hour },
    ],
    networks: [
      { cidr: '10.20.0.0/16', groups: ['KS2'] },
      { cidr: '10.30.1.0/24', groups: ['EYFS'] },
      { cidr: 'fd00:1::/32', groups: ['KS2'] },
    ],
    users: [
      { username: 'T.Teacher', groups: ['staff'] },
      { username: 'pupil.four', groups: ['KS2'] },
    ],
    defaultGroups: ['uncleared'],
    blockPageUrl: 'https://haven.school.test/blocked',
    ...overrides,
  };
}

function engineFor(m: FilterModel = model()) {
  return new FilterEngine(loadSnapshot(compileSnapshot(m, { blockTokenKey: 'test-key' }).bytes));
}

describe('the filtering engine: precedence', () => {
  const engine = engineFor();
  const staff = { user: 't.teacher' };
  const ks2 = { ip: '10.20.4.5' };
  const eyfs = { ip: '10.30.1.9' };
  const cases: Array<[string, { ip?: string; user?: string }, string, 'allow' | 'block', string, string | null, number?]> = [
    // [what, who, url, action, rule, category, time offset]
    ['illegal content is blocked for staff', staff, 'http://illegal.example/', 'block', 'illegal', 'csam'],
    ['an exception cannot lift illegal content (domain or category)', staff, 'http://www.illegal.example/x', 'block', 'illegal', 'csam'],
    ['an allow list cannot lift illegal content', ks2, 'http://illegal.example/', 'block', 'illegal', 'csam'],
    ['an illegal URL entry blocks that page', staff, 'http://host.example/bad/page?x=1', 'block', 'illegal', 'csam'],
    ['the illegal URL entry does not block a sibling path', staff, 'http://host.example/bad/pages', 'allow', 'default', null],
    ['a category blocked for the group', ks2, 'http://games.example/', 'block', 'category', 'games'],
    ['an exception lifts a category block for its group', staff, 'http://games.example/', 'allow', 'exception:exc-games', null],
    ['the exception ends with its period', staff, 'http://games.example/', 'allow', 'category', 'games', 2 * hour],
    ['a category exception only within its period (not yet)', ks2, 'http://social.example/', 'block', 'deny-list', null],
    ['deny beats allow', ks2, 'http://social.example/', 'block', 'deny-list', null],
    ['the deny list applies to subdomains', ks2, 'http://a.learn.example/', 'block', 'deny-list', null],
    ['the walled garden allows its allow list', eyfs, 'http://cbeebies.example/', 'allow', 'allow-list', null],
    ['the walled garden blocks anything else', eyfs, 'http://unknown.example/', 'block', 'walled-garden', null],
    ['the walled garden blocks a categorised site that is not blocked', eyfs, 'http://learn-more.example/', 'block', 'walled-garden', null],
    ['uncleared people get the most restrictive policy', {}, 'http://unknown.example/', 'block', 'walled-garden', null],
    ['example.com blocks a.b.example.com', staff, 'http://a.b.example.com/page', 'block', 'category', 'pornography'],
    ['but not notexample.com', staff, 'http://notexample.com/', 'allow', 'default', null],
    ['the most specific entry decides the category', ks2, 'http://play.adult.example/', 'block', 'category', 'games'],
    ['the most specific entry decides the category (allowed)', staff, 'http://play.adult.example/', 'allow', 'category', 'games'],
    ['upper case, a port and a trailing dot', staff, 'HTTP://WWW.Adult.Example.:8080/x', 'block', 'category', 'pornography'],
    ['upper case alone (no port or dot)', staff, 'http://A.B.EXAMPLE.com/page', 'block', 'category', 'pornography'],
    ['upper case in a URL-prefix host', ks2, 'http://WWW.Videos.Example/games/chess', 'block', 'category', 'games'],
    ['upper case in a deny-listed subdomain', ks2, 'http://A.Learn.Example/', 'block', 'deny-list', null],
    ['CONNECT host:port', staff, 'adult.example:443', 'block', 'category', 'pornography'],
    ['an IDN host matches its punycode entry', ks2, 'http://bücher.example/', 'block', 'category', 'social'],
    ['URL prefix on a path boundary', ks2, 'http://videos.example/games/chess', 'block', 'category', 'games'],
    ['URL prefix with www. and a query', ks2, 'http://www.videos.example/games?level=2', 'block', 'category', 'games'],
    ['URL prefix not inside a longer segment', ks2, 'http://videos.example/gamesmaster', 'allow', 'default', null],
    ['a URL exception for its path', ks2, 'http://videos.example/games/maths/fractions', 'allow', 'exception:exc-videos', null],
    ['a time window allows games at lunchtime', ks2, 'http://games.example/', 'allow', 'category', 'games', 2 * hour + 5 * 60_000],
    ['the window is weekdays only', ks2, 'http://games.example/', 'block', 'category', 'games', 5 * 24 * hour + 2 * hour + 5 * 60_000],
    ['a user name decides the group', { user: 'PUPIL.FOUR' }, 'http://games.example/', 'block', 'category', 'games'],
    ['an IPv6 range decides the group', { ip: 'fd00:1:0:0::25' }, 'http://games.example/', 'block', 'category', 'games'],
  ];
  for (const [what, who, url, action, rule, category, offset] of cases) {
    it(what, () => {
      const verdict = engine.decide(who, url, now + (offset ?? 0));
      assert.deepEqual({ action: verdict.action, rule: verdict.rule, category: verdict.category }, { action, rule, category });
      assert.equal(verdict.snapshot, 'v1');
    });
  }

  it('lifts a category only within the exception period, for that group only', () => {
    const m = model({
      lists: model().lists.filter((list) => list.id !== 'ks2-deny'),
      policies: model().policies.map((policy) => (policy.group === 'KS2' ? { ...policy, denyListId: undefined, allowListId: undefined } : policy)),
    });
    const e = engineFor(m);
    assert.equal(e.decide({ ip: '10.20.0.1' }, 'http://social.example/', now).action, 'block');
    assert.equal(e.decide({ ip: '10.20.0.1' }, 'http://social.example/', now + 90 * 60_000).action, 'allow');
    assert.equal(e.decide({ ip: '10.20.0.1' }, 'http://social.example/', now + 3 * hour).action, 'block');
    assert.equal(e.decide({ ip: '10.30.1.1' }, 'http://social.example/', now + 90 * 60_000).action, 'block', 'not for another group');
  });

  it('applies the most restrictive verdict when several groups apply', () => {
    // A staff user on the early-years network: the walled garden wins.
    assert.equal(engine.decide({ user: 't.teacher', ip: '10.30.1.2' }, 'http://unknown.example/', now).action, 'block');
    assert.equal(engine.decide({ user: 't.teacher', ip: '10.99.0.1' }, 'http://unknown.example/', now).action, 'allow');
  });

  it('refuses a malformed URL rather than guessing', () => {
    assert.equal(engine.decide(staff, 'http://exa mple.com/', now).rule, 'malformed');
    assert.equal(engine.decide(staff, '', now).rule, 'malformed');
  });

  it('forces SafeSearch for groups that ask for it', () => {
    const verdict = engine.decide(ks2, 'http://www.google.co.uk/search?q=volcanoes', now);
    assert.equal(verdict.action, 'allow');
    assert.equal(verdict.rewriteUrl, 'http://www.google.co.uk/search?q=volcanoes&safe=active');
    assert.equal(engine.decide(staff, 'http://www.google.co.uk/search?q=volcanoes', now).rewriteUrl, undefined);
    // Upper case in the host is still a search engine's host, and reported in lower case.
    const upper = engine.decide(ks2, 'http://WWW.Google.CO.UK/search?q=volcanoes', now);
    assert.equal(upper.rewriteUrl, 'http://WWW.Google.CO.UK/search?q=volcanoes&safe=active');
    assert.equal(upper.host, 'www.google.co.uk');
    assert.equal(engine.decide(ks2, 'http://Games.Example/', now).host, 'games.example');
    // A CONNECT tunnel has no URL to rewrite (SafeSearch over HTTPS is the DNS exports' job).
    assert.equal(engine.decide(ks2, 'duckduckgo.com:443', now).rewriteUrl, undefined);
    assert.equal(engine.decide(ks2, 'https://duckduckgo.com/?q=owls', now).rewriteUrl, 'https://duckduckgo.com/?q=owls&kp=1');
  });

  it('signs block-page tokens without personal data, and refuses a tampered one', () => {
    const verdict = engine.decide(staff, 'http://adult.example/secret?name=someone', now);
    const address = engine.blockPageFor(verdict, now);
    assert.ok(address.startsWith('https://haven.school.test/blocked?t='));
    assert.doesNotMatch(address, /t\.teacher|secret|someone/);
    const token = new URL(address).searchParams.get('t')!;
    assert.deepEqual(readBlockToken(token, 'test-key'), {
      host: 'adult.example',
      category: 'pornography',
      rule: 'category',
      group: 'staff',
      snapshot: 'v1',
      at: now,
    });
    assert.equal(readBlockToken(`${token.slice(0, -2)}xx`, 'test-key'), null);
    assert.equal(readBlockToken(token, 'other-key'), null);
  });

  it('swaps snapshots between decisions', () => {
    const e = engineFor();
    assert.equal(e.decide(staff, 'http://new.example/', now).action, 'allow');
    const next = model({
      version: 'v2',
      lists: [...model().lists, { id: 'more', kind: 'category', category: 'pornography', domains: ['new.example'], urls: [] }],
    });
    e.swap(loadSnapshot(compileSnapshot(next, { blockTokenKey: 'test-key' }).bytes));
    const verdict = e.decide(staff, 'http://new.example/', now);
    assert.deepEqual([verdict.action, verdict.snapshot], ['block', 'v2']);
  });

  it('refuses a file that is not a snapshot', () => {
    assert.throws(() => loadSnapshot(Buffer.from('not a snapshot at all')), /bad magic/);
  });

  it('gives the same answer from bytes (the helpers) as from strings, for every kind of address', () => {
    const urls = [
      'http://illegal.example/',
      'http://host.example/bad/page?x=1',
      'http://games.example/',
      'http://www.games.example/x',
      'http://a.b.example.com/page',
      'http://notexample.com/',
      'http://play.adult.example/',
      'HTTP://WWW.Adult.Example.:8080/x',
      'adult.example:443',
      'games.example:443',
      'www.games.example:443',
      'illegal.example:443',
      'unknown.example:443',
      'learn.example:8443',
      'host.example:443',
      'videos.example:443',
      'ADULT.example:443',
      'cbeebies.example:443',
      'social.example:443',
      'adult.example:',
      'adult.example:44a',
      'adult.example:443/x',
      'user@adult.example:443',
      '[::1]:443',
      'www.google.co.uk:443',
      'duckduckgo.com:443',
      'www.bing.com:443',
      'https://www.google.com/search?q=owls',
      'https://www.google.com/maps/place',
      'https://www.google.com/searchbox',
      'https://www.google.com',
      'https://www.bing.com/images',
      'https://www.gstatic.example/x',
      'https://www.bing.com/search?q=owls',
      'https://www.bing.com.example/',
      'https://www.bbc.example/news',
      'https://duckduckgo.com/html?q=owls',
      'https://www.duckduckgo.com/?q=owls',
      'https://notduckduckgo.com/?q=owls',
      'https://sold.com/',
      ':443',
      'http://bücher.example/',
      'http://videos.example/games/chess',
      'http://www.videos.example/games?level=2',
      'http://videos.example/gamesmaster',
      'http://videos.example/games/maths/fractions',
      'http://www.google.co.uk/search?q=volcanoes',
      'https://duckduckgo.com/?q=owls',
      'http://social.example/',
      'http://cbeebies.example/',
      'http://unknown.example/',
      'http://a..b.example/',
      'http://exa mple.com/',
      'https://learn.example/',
    ];
    for (const [who, indexes] of [
      ['staff', [engine.policiesFor(staff)]],
      ['KS2', [engine.policiesFor(ks2)]],
      ['EYFS', [engine.policiesFor(eyfs)]],
      ['uncleared', [engine.policiesFor({})]],
    ] as const) {
      for (const url of urls) {
        const bytes = Buffer.from(`xx ${url} yy`);
        const fromBytes = engine.decideBytes(indexes[0], bytes, 3, 3 + Buffer.byteLength(url), now);
        const fromString = engine.decideFor(indexes[0], url, now);
        const view = (decision: typeof fromString) => [
          decision.action,
          decision.rule,
          decision.category,
          decision.group,
          decision.action === 'block' ? decision.host : '',
          decision.rewriteUrl ?? '',
        ];
        assert.deepEqual(view(fromBytes), view(fromString), `${who}: ${url}`);
        // classifyBytes (monitoring) is the same decision, without the host on byte-path blocks.
        const classified = engine.classifyBytes(indexes[0], bytes, 3, 3 + Buffer.byteLength(url), now);
        assert.deepEqual(view(classified).slice(0, 4), view(fromString).slice(0, 4), `${who}: ${url} (classified)`);
      }
    }
  });

  it('tries regular expressions only when no entry matched, bounded, and the byte path agrees', () => {
    const withExpressions = model({
      version: 'v3',
      lists: [
        ...model().lists,
        {
          id: 'games-rx',
          kind: 'category',
          category: 'games',
          domains: [],
          urls: [],
          expressions: ['(^|\\.)arcade[0-9]+\\.example/', 'x'.repeat(600), '([bad'],
        },
      ],
    });
    const e = engineFor(withExpressions);
    assert.equal(e.current.header.counts.expressions, 1, 'over-long and invalid expressions are dropped at compile time');
    const ks2Index = e.policiesFor(ks2);
    const verdict = e.decideFor(ks2Index, 'http://arcade42.example/play', now);
    assert.deepEqual([verdict.action, verdict.category], ['block', 'games']);
    assert.equal(e.decideFor(ks2Index, 'http://arcade.example/play', now).action, 'allow');
    assert.equal(e.decideFor(ks2Index, 'http://learn.example/arcade1.example/', now).rule, 'deny-list', 'an entry that matched wins over the slow path');
    const bytes = Buffer.from('http://arcade42.example/play');
    assert.deepEqual([e.decideBytes(ks2Index, bytes, 0, bytes.length, now).category], ['games']);
  });

  it('finds the same policies for an address from its number (helpers) as from its text, cache and all', () => {
    const e = engineFor();
    const toInt = (ip: string) => ip.split('.').reduce((value, part) => (value << 8) | Number(part), 0);
    const addresses = ['10.20.4.5', '10.30.1.9', '10.99.0.1', '255.255.255.255', '0.0.0.0', '10.20.255.255'];
    for (let round = 0; round < 3; round += 1)
      for (const ip of [...addresses, ...Array.from({ length: 9000 }, (_, i) => `10.${20 + (i % 20)}.${i % 256}.${(i * 7) % 256}`)])
        // An unknown user name makes policiesFor work the answer out from the ranges afresh.
        assert.deepEqual(e.policiesForIpv4(toInt(ip)), e.policiesFor({ ip, user: 'no-such-user' }), ip);
  });

  it('finds the same policies for a user name and a numeric address as for their text, the user’s groups first', () => {
    const e = engineFor();
    const toInt = (ip: string) => ip.split('.').reduce((value, part) => (value << 8) | Number(part), 0);
    const staffOnly = e.policiesFor({ user: 't.teacher' });
    const eyfsRange = e.policiesFor({ ip: '10.30.1.2' });
    for (let round = 0; round < 2; round += 1) {
      const both = e.policiesForUserIpv4('t.teacher', toInt('10.30.1.2'));
      assert.deepEqual(both, [...staffOnly, ...eyfsRange]);
      assert.deepEqual(e.policiesFor({ user: 'T.Teacher', ip: '10.30.1.2' }), both);
      assert.deepEqual(e.policiesForUserIpv4('t.teacher', toInt('10.99.0.1')), staffOnly, 'no range: the user’s alone');
      assert.deepEqual(e.policiesForUserIpv4('nobody', toInt('10.30.1.2')), eyfsRange, 'unknown user: the range’s');
      assert.deepEqual(e.policiesForUserIpv4('nobody', toInt('10.99.0.1')), e.policiesFor({}), 'neither: the defaults');
    }
    // A stray "%" in a logged user name is not an escape: no match, and no error.
    assert.deepEqual(e.policiesFor({ user: 'pupil%zz', ip: '10.99.0.1' }), e.policiesFor({}));
    assert.deepEqual(e.policiesFor({ user: 'PUPIL%2EFOUR' }), e.policiesFor({ user: 'pupil.four' }), 'an escaped name is decoded');
  });
});
