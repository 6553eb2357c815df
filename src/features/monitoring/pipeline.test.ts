import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSnapshot } from '../filtering/compile.js';
import { FilterEngine, loadSnapshot } from '../filtering/engine.js';
import type { FilterModel } from '../filtering/model.js';
import { PhraseMatcher } from './phrases.js';
import { Pipeline } from './pipeline.js';
import { trafficRows, type TrafficBatch, type TrafficCount } from './traffic.js';

const model: FilterModel = {
  version: 'v1',
  timeZone: 'Europe/London',
  categories: [{ code: 'games', name: 'Games', illegal: false }],
  lists: [{ id: 'games', kind: 'category', category: 'games', domains: ['arcade.example'], urls: [] }],
  policies: [{ group: 'key_stage:KS2', name: 'KS2', blockedCategories: ['games'], allowListOnly: false, safeSearch: false }],
  exceptions: [],
  networks: [{ cidr: '10.20.0.0/16', groups: ['key_stage:KS2'] }],
  users: [{ username: 'pupil.one', groups: ['key_stage:KS2'] }],
  defaultGroups: ['key_stage:KS2'],
  blockPageUrl: 'https://haven.school.test/blocked',
};

function pipeline(): Pipeline {
  return new Pipeline({
    format: 'squid',
    engine: new FilterEngine(loadSnapshot(compileSnapshot(model, { blockTokenKey: 'k' }).bytes)),
    matcher: new PhraseMatcher([]),
    timeZone: 'Europe/London',
    users: new Map([['pupil.one', { personId: 'person-1', staff: false }]]),
    thresholds: {},
    defaultThreshold: 10,
    watchedCategories: {},
  });
}

/** One Squid native line at `seconds` (epoch). */
function line(seconds: number, client: string, user: string, url: string, code = 'TCP_MISS/200'): string {
  return `${seconds}.000    12 ${client} ${code} 512 GET ${url} ${user} HIER_DIRECT/192.0.2.1 text/html`;
}

function push(p: Pipeline, lines: string[]): void {
  lines.forEach((text, index) => {
    const bytes = Buffer.from(text);
    p.push(bytes, 0, bytes.length, index + 1);
  });
}

const sorted = (batch: TrafficBatch | TrafficCount[]) =>
  (Array.isArray(batch) ? batch : trafficRows(batch))
    .map((count) => `${count.day} ${count.subject} ${count.host} ${count.category ?? '-'} ${count.allowed}/${count.blocked}`)
    .sort();

describe('monitoring pipeline: traffic counts', () => {
  const day = 1_764_662_400; // 2025-12-02 08:00 UTC, 08:00 in London

  it('counts allowed and blocked requests per day, person or device, and host', () => {
    const p = pipeline();
    push(p, [
      line(day, '10.20.0.5', '-', 'http://library.example/a'),
      line(day + 1, '10.20.0.5', '-', 'http://LIBRARY.example/b'),
      line(day + 2, '10.20.0.6', '-', 'http://library.example/c'),
      line(day + 3, '10.20.0.6', 'pupil.one', 'http://library.example/d'),
      line(day + 4, '10.20.0.7', 'pupil.one', 'http://library.example/e'),
      line(day + 5, '10.20.0.7', 'pupil.one', 'http://arcade.example/', 'TCP_DENIED/403'),
      line(day + 86_400, '10.20.0.5', '-', 'http://library.example/next-day'),
      // The Kelvin sign lower-cases to "k": the same site as "kids.example".
      line(day + 6, '10.20.0.6', '-', 'http://\u212Aids.example/'),
      line(day + 7, '10.20.0.6', '-', 'http://kids.example/'),
    ]);
    const taken = p.drain();
    assert.deepEqual(sorted(taken.traffic), [
      '2025-12-02 ip:10.20.0.5 library.example - 2/0',
      '2025-12-02 ip:10.20.0.6 kids.example - 2/0',
      '2025-12-02 ip:10.20.0.6 library.example - 1/0',
      '2025-12-02 p:person-1 arcade.example games 0/1',
      '2025-12-02 p:person-1 library.example - 2/0',
      '2025-12-03 ip:10.20.0.5 library.example - 1/0',
    ]);
    assert.equal(taken.events.length, 1, 'the blocked attempt is kept as an event');
    const keys = trafficRows(taken.traffic).map((count) => `${count.day}\u0000${count.subject}\u0000${count.host}`);
    assert.deepEqual(keys, [...keys].sort(), 'handed over in the daily table’s key order');
    // A new batch starts its counts (and the ids behind them) afresh.
    push(p, [line(day, '10.20.0.5', '-', 'http://library.example/a')]);
    assert.deepEqual(sorted(p.drain().traffic), ['2025-12-02 ip:10.20.0.5 library.example - 1/0']);
  });

  it('still counts correctly when one batch spans more days than the numeric keys hold (junk or years-long logs)', () => {
    const p = pipeline();
    const lines: string[] = [];
    for (let d = 0; d < 600; d += 1) lines.push(line(day + d * 86_400, '10.20.0.5', '-', 'http://library.example/'));
    lines.push(line(day + 599 * 86_400 + 60, '10.20.0.5', '-', 'http://library.example/again'));
    lines.push(line(day + 599 * 86_400 + 90, '10.20.0.5', 'pupil.one', 'http://library.example/again'));
    lines.push(line(day + 599 * 86_400 + 95, '10.20.0.6', 'pupil.one', 'http://library.example/again'));
    push(p, lines);
    const traffic = trafficRows(p.drain().traffic);
    assert.equal(traffic.length, 601);
    const keys = new Set(traffic.map((count) => `${count.day}|${count.subject}|${count.host}`));
    assert.equal(keys.size, 601, 'one count per day, subject and host, never two');
    const last = traffic.filter((count) => count.day === '2027-07-24');
    assert.deepEqual(sorted(last), ['2027-07-24 ip:10.20.0.5 library.example - 2/0', '2027-07-24 p:person-1 library.example - 2/0']);
  });
});

describe('monitoring pipeline: who', () => {
  const day = 1_764_662_400;

  it('knows a person by their user name however it is logged, and follows a new snapshot', () => {
    const engine = new FilterEngine(loadSnapshot(compileSnapshot(model, { blockTokenKey: 'k' }).bytes));
    const p = new Pipeline({
      format: 'squid',
      engine,
      matcher: new PhraseMatcher([]),
      timeZone: 'Europe/London',
      users: new Map([['pupil.one', { personId: 'person-1', staff: false }]]),
      thresholds: {},
      defaultThreshold: 10,
      watchedCategories: {},
    });
    const denied = (seconds: number, client: string, user: string) => line(seconds, client, user, 'http://arcade.example/', 'TCP_DENIED/403');
    push(p, [
      denied(day, '10.20.0.5', 'pupil.one'),
      denied(day + 1, '10.20.0.5', 'Pupil.One'),
      denied(day + 2, '10.20.0.5', 'pupil%2Eone'),
      denied(day + 3, '10.20.0.5', 'pupil.two'),
      denied(day + 4, '10.20.0.5', '-'),
    ]);
    const who = (taken: ReturnType<Pipeline['drain']>) => taken.events.map((event) => `${event.personId ?? '-'} ${event.group}`);
    assert.deepEqual(who(p.drain()), ['person-1 key_stage:KS2', 'person-1 key_stage:KS2', 'person-1 key_stage:KS2', '- key_stage:KS2', '- key_stage:KS2']);

    // The school moves pupil.one into a staff group: the next lines are judged by the new snapshot.
    const moved: FilterModel = {
      ...model,
      version: 'v2',
      policies: [...model.policies, { group: 'all_staff:staff', name: 'Staff', blockedCategories: [], allowListOnly: false, safeSearch: false }],
      networks: [],
      users: [{ username: 'pupil.one', groups: ['all_staff:staff'] }],
    };
    engine.swap(loadSnapshot(compileSnapshot(moved, { blockTokenKey: 'k' }).bytes));
    push(p, [denied(day + 10, '10.20.0.5', 'pupil.one'), denied(day + 11, '10.20.0.5', 'Pupil.One')]);
    assert.deepEqual(who(p.drain()), ['person-1 all_staff:staff', 'person-1 all_staff:staff']);
  });
});
