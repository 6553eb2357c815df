import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadSnapshot } from '../../src/features/filtering/engine.js';
import { runHelper } from '../../src/features/filtering/helper.js';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool, buildUser } from '../support/factories.js';

const day = 86_400_000;

/** A filter helper running over the school's snapshot file, as Squid runs it. */
function startHelper(haven: TestHaven, path: string, mode: 'acl' | 'rewrite' = 'acl') {
  const input = new PassThrough();
  const output = new PassThrough();
  const answers: string[] = [];
  output.on('data', (chunk: Buffer) => answers.push(...chunk.toString().trim().split('\n')));
  const done = runHelper({ mode, snapshotPath: path, input, output, reloadMs: 50, now: () => haven.clock().getTime(), log: () => undefined });
  let id = 0;
  return {
    async ask(line: string): Promise<string> {
      id += 1;
      const before = answers.length;
      input.write(`${id} ${line}\n`);
      for (let i = 0; i < 200 && answers.length === before; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
      return answers.at(-1)!.replace(/^\d+ /, '');
    },
    /** Asks until the answer is `expected` (the helper looks for a new snapshot every 50 ms), for up to 5 s. */
    async askUntil(line: string, expected: string): Promise<string> {
      let answer = '';
      for (let attempt = 0; attempt < 100; attempt += 1) {
        answer = await this.ask(line);
        if (answer === expected) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return answer;
    },
    async stop() {
      input.end();
      await done;
    },
  };
}

for (const dialect of dialects()) {
  describe(`filtering: change requests, approval, the running helper and the change log (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let head: TestAgent;
    let teacher: TestAgent;
    let teacherUser: Awaited<ReturnType<typeof buildUser>>;

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      head = new TestAgent(haven.app);
      await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
      teacherUser = await buildUser(haven.services, schoolId, ['staff'], { name: 'Tia Teach' });
      teacher = new TestAgent(haven.app);
      await teacher.signIn(teacherUser.email, teacherUser.password);
      const context = { schoolId };
      await haven.services.filtering.addCategoryList(
        context,
        { name: 'Games sample', category: 'games', source: null, format: 'domains' },
        { domains: ['battle-royale.example'], urls: [] },
      );
      await haven.services.filtering.addCategoryList(
        context,
        { name: 'IWF sample', category: 'csam', source: null, format: 'domains' },
        { domains: ['iwf-listed-sample.test'], urls: [] },
      );
      await haven.services.filtering.addNetwork(context, { cidr: '10.40.0.0/16', groupCode: 'key_stage:KS2', label: 'Pupil Wi-Fi' });
    });
    after(() => haven.close());

    it('unblocks a site for a group for its period only, through request and approval, without restarting the helper', async () => {
      const helper = startHelper(haven, haven.services.filtering.snapshotPath(schoolId));
      const line = '10.40.1.7 - battle-royale.example http://battle-royale.example/lobby';
      assert.equal(await helper.ask(line), 'ERR message=games log=category');
      assert.equal(
        await helper.ask('10.99.0.1 - battle-royale.example http://battle-royale.example/'),
        'ERR message=games log=category',
        'unknown devices get the not-cleared policy',
      );

      const today = haven.clock().toISOString().slice(0, 10);
      const form = await teacher.get('/filtering/requests/new?site=battle-royale.example&group=key_stage%3AKS2');
      assert.match(form.body, /value="battle-royale.example"/);
      const refused = await teacher.post('/filtering/requests', {
        targetType: 'category',
        category: 'csam',
        groupCode: 'key_stage:KS2',
        reason: 'Research',
        startsOn: today,
        endsOn: today,
      });
      assert.equal(refused.statusCode, 400, 'illegal content cannot be asked for');
      const made = await teacher.post('/filtering/requests', {
        targetType: 'site',
        target: 'https://Battle-Royale.example/',
        groupCode: 'key_stage:KS2',
        reason: 'Year 5 are studying game design this week',
        riskNotes: 'Chat is off in class',
        startsOn: today,
        endsOn: today,
      });
      assert.equal(made.statusCode, 303);
      const requestPath = made.headers.location as string;
      assert.match((await teacher.get(requestPath)).body, /data-qa="status">Waiting for a decision/);
      assert.equal((await teacher.post(`${requestPath}/decision`, { decision: 'approve', decisionReason: 'Mine' })).statusCode, 403);
      assert.equal(await helper.ask(line), 'ERR message=games log=category', 'nothing changes before the decision');

      assert.equal((await head.post(`${requestPath}/decision`, { decision: 'approve', decisionReason: '' })).statusCode, 400, 'a decision needs reasons');
      assert.equal((await head.post(`${requestPath}/decision`, { decision: 'approve', decisionReason: 'Supervised, this week only' })).statusCode, 303);
      assert.equal(await helper.askUntil(line, 'OK'), 'OK', 'the running helper picks up the approval');
      assert.equal(await helper.ask('10.99.0.1 - battle-royale.example http://battle-royale.example/'), 'ERR message=games log=category', 'only for its group');

      haven.clock.advance(2 * day);
      assert.equal(await helper.ask(line), 'ERR message=games log=category', 'the exception ends with its period');
      const outcome = await haven.services.jobs.runNow('filter-exceptions');
      assert.match(outcome!.summary, /1 exceptions ended/);
      await helper.stop();

      const log = await haven.services.filtering.changeLog(schoolId);
      const actions = log.map((row) => row.action);
      for (const action of ['request.made', 'request.approved', 'request.expired', 'network.added', 'list.imported'])
        assert.ok(actions.includes(action), `${action} is in the change log`);
      assert.equal(log.find((row) => row.action === 'request.approved')!.reason, 'Supervised, this week only');
      const request = (await haven.services.filtering.requests(schoolId))[0]!;
      assert.equal(request.status, 'expired');
    });

    it('shows the change log to governors but not to teachers, and never lets a category list lift illegal content', async () => {
      const governor = await buildUser(haven.services, schoolId, ['governor']);
      const governorAgent = new TestAgent(haven.app);
      await governorAgent.signIn(governor.email, governor.password);
      // The clock moved on by days in the test before: sign the teacher in again.
      teacher = new TestAgent(haven.app);
      await teacher.signIn(teacherUser.email, teacherUser.password);
      const page = await governorAgent.get('/filtering/log');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /data-qa="log-request.approved"/);
      assert.equal((await teacher.get('/filtering/log')).statusCode, 403);
      assert.equal((await governorAgent.get('/filtering')).statusCode, 403);

      const engine = await haven.services.filtering.engineFor(schoolId);
      const staffPolicy = engine.current.policyByGroup.get('all_staff:staff')!;
      assert.equal(engine.decideFor([staffPolicy], 'http://iwf-listed-sample.test/', haven.clock().getTime()).rule, 'illegal');
    });

    it('edits a group policy and local lists with reasons: deny beats allow, and the walled garden', async () => {
      const lead = await buildUser(haven.services, schoolId, ['technician']);
      const tech = new TestAgent(haven.app);
      await tech.signIn(lead.email, lead.password);
      const group = encodeURIComponent('key_stage:KS2');
      assert.equal((await tech.post(`/filtering/policies/${group}/entries`, { kind: 'allow', entry: 'not a site', entryReason: 'x' })).statusCode, 400);
      assert.equal((await tech.post(`/filtering/policies/${group}/entries`, { kind: 'allow', entry: 'museum.example', entryReason: 'Trip' })).statusCode, 303);
      assert.equal((await tech.post(`/filtering/policies/${group}/entries`, { kind: 'deny', entry: 'museum.example', entryReason: 'Ads' })).statusCode, 303);
      const decide = async (url: string) => (await haven.services.filtering.decideBatch(schoolId, [{ url, ip: '10.40.0.9' }]))[0]!;
      assert.equal((await decide('http://shop.museum.example/')).rule, 'deny-list');
      const overview = await tech.get('/filtering');
      assert.equal(overview.statusCode, 200);
      assert.match(overview.body, /data-qa="snapshot-version">[0-9a-f]{12}</);
      assert.match(overview.body, /10\.40\.0\.0\/16/);
      assert.match(overview.body, /haven-filter-helper --mode rewrite --snapshot/);
      const mine = await teacher.get('/filtering/requests');
      assert.equal(mine.statusCode, 200);
      assert.match(mine.body, /FR-0001/, 'teachers see their own requests');
      const policyPage = await tech.get(`/filtering/policies/${group}`);
      assert.match(policyPage.body, /data-qa="allow-list">[\s\S]*museum.example/);
      assert.equal(
        (await tech.post(`/filtering/policies/${group}`, { blocked: ['games', 'gambling'], allowListOnly: 'yes', reason: 'Trial walled garden' })).statusCode,
        303,
      );
      assert.equal((await decide('http://anything-else.example/')).rule, 'walled-garden');
      const log = await haven.services.filtering.changeLog(schoolId);
      assert.match(log[0]!.summary, /Key stage 2: .*allow-list only/);
      assert.equal(log[0]!.reason, 'Trial walled garden');
      assert.equal((await teacher.post(`/filtering/policies/${group}`, { reason: 'x' })).statusCode, 403);
    });

    it('sends blocked requests to a block page that says why, offers a request and a concern report, and refuses a forged token', async () => {
      const helper = startHelper(haven, haven.services.filtering.snapshotPath(schoolId), 'rewrite');
      const answer = await helper.ask('http://battle-royale.example/ 10.99.0.3/- - GET');
      await helper.stop();
      const address = /^OK status=302 url=(\S+)$/.exec(answer)![1]!;
      const url = new URL(address);
      assert.equal(url.pathname, `/blocked/${schoolId}`);
      const visitor = new TestAgent(haven.app);
      const page = await visitor.get(`${url.pathname}${url.search}`);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /data-qa="blocked-host">battle-royale.example/);
      assert.match(page.body, /data-qa="blocked-category">Games/);
      assert.match(page.body, /data-qa="request-access"/);
      assert.match(page.body, /data-qa="report-concern-link"/);
      const token = url.searchParams.get('t')!;
      const forged = await visitor.get(`${url.pathname}?t=${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`);
      assert.equal(forged.statusCode, 400);
      assert.doesNotMatch(forged.body, /battle-royale/);
    });

    it('answers a batch through the decision API for a token with the filtering.decide scope only', async () => {
      const { token } = await haven.services.apiTokens.create(schoolId, { name: 'Firewall', scopes: ['filtering.decide'] }, { schoolId });
      const response = await haven.app.inject({
        method: 'POST',
        url: '/api/v1/filter/decide',
        headers: { authorization: `Bearer ${token}` },
        payload: {
          requests: [
            { url: 'http://battle-royale.example/', ip: '10.99.0.1' },
            { url: 'http://fine.example/', user: '-' },
          ],
        },
      });
      assert.equal(response.statusCode, 200);
      const body = response.json<{ verdicts: Array<{ action: string; category: string | null; blockPage?: string }> }>();
      assert.equal(body.verdicts[0]!.action, 'block');
      assert.equal(body.verdicts[0]!.category, 'games');
      assert.match(body.verdicts[0]!.blockPage!, /\/blocked\//);
      const zone = await haven.app.inject({ method: 'GET', url: '/api/v1/filter/exports/key_stage%3AKS1/rpz', headers: { authorization: `Bearer ${token}` } });
      assert.equal(zone.statusCode, 200);
      assert.match(zone.body, /^battle-royale\.example CNAME \.$/m);
      assert.match(zone.body, /^iwf-listed-sample\.test CNAME \.$/m);
      assert.match(String(zone.headers['content-disposition']), /haven-key_stage-KS1\.rpz\.zone/);
      const walled = await haven.app.inject({ method: 'GET', url: '/api/v1/filter/exports/uncleared/hosts', headers: { authorization: `Bearer ${token}` } });
      assert.equal(walled.statusCode, 409, 'a walled garden cannot be a hosts file');
      assert.equal(
        (await haven.app.inject({ method: 'GET', url: '/api/v1/filter/exports/key_stage%3AKS2/bind9', headers: { authorization: `Bearer ${token}` } }))
          .statusCode,
        404,
      );
      const { token: other } = await haven.services.apiTokens.create(schoolId, { name: 'MIS', scopes: ['people.read'] }, { schoolId });
      const refused = await haven.app.inject({
        method: 'POST',
        url: '/api/v1/filter/decide',
        headers: { authorization: `Bearer ${other}` },
        payload: { requests: [{ url: 'x' }] },
      });
      assert.equal(refused.statusCode, 403);
    });

    it('runs filtering checks with a record of when, who, where and the result, and tells the technician and head when one fails', async () => {
      const technicianUser = await buildUser(haven.services, schoolId, ['technician']);
      const tech = new TestAgent(haven.app);
      await tech.signIn(technicianUser.email, technicianUser.password);
      const passing = await tech.post('/filtering/checks', { groupCode: 'all_staff:staff', location: 'ICT suite, PC 12' });
      assert.equal(passing.statusCode, 303);
      const passPage = await tech.get(passing.headers.location as string);
      assert.match(passPage.body, /data-qa="summary">\d+ passed, 0 failed/);
      assert.match(passPage.body, /iwf-listed-sample.test/, 'illegal content is probed too');

      // Through a proxy that does not answer, nothing gets through: the allowed probes fail.
      const failing = await tech.post('/filtering/checks', { groupCode: 'all_staff:staff', location: 'Library laptop 3', proxyUrl: 'http://127.0.0.1:9' });
      const failPage = await tech.get(failing.headers.location as string);
      assert.match(failPage.body, /data-qa="summary">\d+ passed, [1-9]\d* failed/);
      const notes = await haven.services.notifications.list(schoolId, technicianUser.userId);
      assert.match(notes[0]!.title, /A filtering check failed for Staff/);
      assert.equal((await tech.post(`${failing.headers.location as string}/action`, { action: '' })).statusCode, 400);
      assert.equal((await tech.post(`${failing.headers.location as string}/action`, { action: 'Proxy was down; restarted it' })).statusCode, 303);
      assert.equal((await tech.post('/filtering/checks', { groupCode: 'all_staff:staff', location: '' })).statusCode, 400);

      const governor = await buildUser(haven.services, schoolId, ['governor']);
      const governorAgent = new TestAgent(haven.app);
      await governorAgent.signIn(governor.email, governor.password);
      const list = await governorAgent.get('/filtering/checks');
      assert.match(list.body, /Library laptop 3/);
      assert.match(list.body, /Proxy was down; restarted it/);
      assert.equal((await governorAgent.post('/filtering/checks', { groupCode: 'all_staff:staff', location: 'x' })).statusCode, 403);
      assert.equal((await teacher.get('/filtering/checks')).statusCode, 403);
    });

    it('takes an address range as the first thing a new school adds', async () => {
      const fresh = await buildSchool(haven.services, 'Newfield Primary');
      await haven.services.filtering.addNetwork({ schoolId: fresh.schoolId }, { cidr: '10.90.0.0/16', groupCode: 'key_stage:KS2', label: 'Laptops' });
      assert.deepEqual(
        (await haven.services.filtering.networks(fresh.schoolId)).map((network) => [network.cidr, network.group_code]),
        [['10.90.0.0/16', 'key_stage:KS2']],
      );
    });

    it('rewrites a snapshot file left in an older format at start, so a restarted helper can load it', async () => {
      const path = haven.services.filtering.snapshotPath(schoolId);
      await haven.services.filtering.compile(schoolId);
      const current = readFileSync(path);
      assert.equal(await haven.services.filtering.refreshOutdatedSnapshot(schoolId), false, 'a current file is left alone');
      // The same file as format 1 wrote it (same length header, older format number).
      const old = Buffer.from(current);
      old.write('{"format":1,', 12, 'latin1');
      writeFileSync(path, old);
      assert.throws(() => loadSnapshot(readFileSync(path)), /Unsupported snapshot format 1/);
      assert.equal(await haven.services.filtering.refreshOutdatedSnapshot(schoolId), true);
      assert.equal(loadSnapshot(readFileSync(path)).header.format, 2);
    });

    it('knows people by their network user name, and gives anyone not cleared for ICT access the most restrictive policy', async () => {
      const context = { schoolId };
      const cleared = await haven.services.people.create(
        schoolId,
        { kind: 'staff', legalFirstName: 'Jo', legalLastName: 'Smith', networkUsername: 'J.Smith' },
        context,
      );
      await haven.services.people.create(schoolId, { kind: 'staff', legalFirstName: 'Kit', legalLastName: 'Jones', networkUsername: 'k.jones' }, context);
      await haven.services.agreements.recordPaper(context, {
        audience: 'staff',
        personId: cleared.id,
        signedOn: haven.clock().toISOString().slice(0, 10),
        signedName: 'Jo Smith',
      });
      await haven.services.filtering.compile(schoolId);
      const [staff, uncleared, unknown] = await haven.services.filtering.decideBatch(schoolId, [
        { url: 'http://battle-royale.example/', user: 'j.smith' },
        { url: 'http://battle-royale.example/', user: 'K.JONES' },
        { url: 'http://battle-royale.example/', user: 'nobody' },
      ]);
      assert.deepEqual([staff!.action, staff!.group], ['allow', 'all_staff:staff'], 'a cleared member of staff gets the staff policy');
      assert.deepEqual([uncleared!.action, uncleared!.group], ['block', 'uncleared'], 'not yet signed: the not-cleared policy');
      assert.deepEqual([unknown!.action, unknown!.group], ['block', 'uncleared']);
    });

    it('allows a category in a time window (games at lunchtime), in the school’s time zone', async () => {
      const technicianUser = await buildUser(haven.services, schoolId, ['technician']);
      const tech = new TestAgent(haven.app);
      await tech.signIn(technicianUser.email, technicianUser.password);
      const group = encodeURIComponent('key_stage:KS1');
      const bad = await tech.post(`/filtering/policies/${group}/windows`, {
        days: ['1'],
        from: '13:00',
        to: '12:00',
        allowCategories: ['games'],
        windowReason: 'x',
      });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /end time after the start/);
      const days = ['0', '1', '2', '3', '4', '5', '6'];
      assert.equal(
        (
          await tech.post(`/filtering/policies/${group}/windows`, {
            days,
            from: '12:00',
            to: '13:00',
            allowCategories: ['games'],
            windowReason: 'Lunchtime club',
          })
        ).statusCode,
        303,
      );
      assert.match((await tech.get(`/filtering/policies/${group}`)).body, /Sun, Mon, Tue, Wed, Thu, Fri, Sat 12:00–13:00: games/);
      const engine = await haven.services.filtering.engineFor(schoolId);
      const ks1 = engine.current.policyByGroup.get('key_stage:KS1')!;
      const at = (iso: string) => engine.decideFor([ks1], 'http://battle-royale.example/', Date.parse(iso)).action;
      // Europe/London in winter is UTC: 12:30 is inside, 14:00 outside.
      assert.equal(at('2026-12-01T12:30:00Z'), 'allow');
      assert.equal(at('2026-12-01T14:00:00Z'), 'block');
      // In summer (BST) 12:30 local is 11:30 UTC.
      assert.equal(at('2027-06-01T11:30:00Z'), 'allow');
      assert.equal(at('2027-06-01T12:30:00Z'), 'block');
      assert.equal((await tech.post(`/filtering/policies/${group}/windows`, { remove: '0' })).statusCode, 303);
      assert.equal(
        (await haven.services.filtering.engineFor(schoolId)).decideFor([ks1], 'http://battle-royale.example/', Date.parse('2026-12-01T12:30:00Z')).action,
        'block',
      );
    });
  });
}
