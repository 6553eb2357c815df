import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildPupil, buildSchool, buildUser } from '../support/factories.js';
import { startSmtpServer } from '../support/smtp.js';

/** A Squid access.log line (native format) at `at`, from `client`, for `url`, by `user` ("-" for none). */
function squidLine(at: Date, client: string, url: string, user = '-', code = 'TCP_MISS/200'): string {
  return `${(at.getTime() / 1000).toFixed(3)}    120 ${client} ${code} 4512 GET ${url} ${user} HIER_DIRECT/192.0.2.10 text/html`;
}

const search = (words: string) => `https://www.google.co.uk/search?q=${encodeURIComponent(words).replace(/%20/g, '+')}&source=hp&ei=abc123`;

async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const dialect of dialects()) {
  describe(`monitoring: ingest, alerts, triage and reports (${dialect})`, () => {
    let haven: TestHaven;
    let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
    let schoolId: string;
    let head: TestAgent;
    let dsl: TestAgent;
    let dslUser: Awaited<ReturnType<typeof buildUser>>;
    let pupilId: string;
    let staffPersonId: string;
    let dir: string;
    const context = () => ({ schoolId });
    const count = async (table: 'web_events' | 'monitor_alerts' | 'web_activity') =>
      Number(
        (
          await haven.services.handle.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('school_id', '=', schoolId)
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      smtp = await startSmtpServer();
      haven = await buildTestHaven(dialect, { smtpUrl: smtp.url });
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      head = new TestAgent(haven.app);
      await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
      dslUser = await buildUser(haven.services, schoolId, ['dsl'], { twoFactor: true, name: 'Dana Lead' });
      dsl = new TestAgent(haven.app);
      await dsl.signIn(dslUser.email, dslUser.password, dslUser.totpSecret, haven.clock);
      const pupil = await buildPupil(haven.services, schoolId, { legalFirstName: 'Milo', legalLastName: 'Fenwick', networkUsername: 'milo.fenwick' });
      pupilId = pupil.id;
      const staff = await haven.services.people.create(
        schoolId,
        { kind: 'staff', legalFirstName: 'Owen', legalLastName: 'Marsh', networkUsername: 'o.marsh' },
        context(),
      );
      staffPersonId = staff.id;
      await haven.services.filtering.addCategoryList(
        context(),
        { name: 'Adult sample', category: 'pornography', source: null, format: 'domains' },
        { domains: ['adult-sample.test'], urls: [] },
      );
      await haven.services.filtering.addNetwork(context(), { cidr: '10.50.0.0/16', groupCode: 'key_stage:KS2', label: 'Pupil Wi-Fi' });
      await haven.services.filtering.compile(schoolId);
      dir = mkdtempSync(join(tmpdir(), 'haven-monitor-'));
    });
    after(async () => {
      await haven.close();
      await smtp.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('turns a pupil’s self-harm search into an alert for the DSL, who escalates it into an incident holding the evidence', async () => {
      const at = new Date(haven.clock().getTime() - 3_600_000);
      const log = join(dir, 'access.log');
      writeFileSync(
        log,
        [
          squidLine(at, '10.50.3.4', 'http://homework-help.example/fractions', 'milo.fenwick'),
          squidLine(new Date(at.getTime() + 1000), '10.50.3.4', search('how to kill myself'), 'milo.fenwick'),
          squidLine(new Date(at.getTime() + 2000), '10.50.3.4', 'http://homework-help.example/fractions/2', 'milo.fenwick'),
          '',
        ].join('\n'),
      );
      const outcome = await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log });
      assert.equal(outcome.lines, 3);
      assert.equal(outcome.searches, 1);
      assert.equal(outcome.alerts, 1);

      const alert = await haven.services.handle.db.selectFrom('monitor_alerts').selectAll().where('school_id', '=', schoolId).executeTakeFirstOrThrow();
      assert.equal(alert.person_id, pupilId);
      assert.equal(alert.theme, 'suicide');
      assert.equal(alert.severity, 5);
      assert.equal(alert.search_term, 'how to kill myself');
      assert.ok(alert.notified_at, 'severity 5 is notified at once');

      // Stored: the search term, never the query string around it.
      const events = await haven.services.handle.db.selectFrom('web_events').selectAll().where('school_id', '=', schoolId).execute();
      assert.equal(events.length, 1);
      assert.equal(events[0]!.host, 'www.google.co.uk');
      assert.doesNotMatch(JSON.stringify(events), /source=hp|ei=abc123/);
      // Allowed traffic as daily counts per person and host.
      const visits = await haven.services.monitoring.siteVisits(context(), pupilId, { from: '2000-01-01', to: '2100-01-01' });
      assert.deepEqual(visits.rows.map((row) => [row.host, Number(row.allowed)]).sort(), [
        ['homework-help.example', 2],
        ['www.google.co.uk', 1],
      ]);

      // The DSL is told at once, in the app and by email with a reference and link only.
      const notes = await haven.services.notifications.list(schoolId, dslUser.userId);
      assert.ok(notes.some((note) => note.title.includes(alert.reference) && note.link === `/monitoring/alerts/${alert.id}`));
      await waitFor(async () => smtp.received.some((mail) => mail.to === dslUser.email && mail.subject.includes(alert.reference)), 'the alert email');
      const mail = smtp.received.find((item) => item.to === dslUser.email && item.subject.includes(alert.reference))!;
      assert.doesNotMatch(mail.text, /kill|myself|Milo|Fenwick/i, 'no detail in the email');
      assert.match(mail.text, new RegExp(`/monitoring/alerts/${alert.id}`));

      const page = await dsl.get(`/monitoring/alerts/${alert.id}`);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /how to kill myself/);
      // The form suggests the incident type for the theme; the DSL sends it as suggested.
      const suggested = /<option value="([0-9a-f-]{36})" selected>([^<]+)<\/option>/.exec(page.body);
      assert.ok(suggested, 'an incident type is suggested');
      assert.equal(suggested[2], 'Inappropriate website accessed');
      const escalated = await dsl.post(`/monitoring/alerts/${alert.id}/escalate`, {
        typeId: suggested[1]!,
        role: 'affected',
        escalateNote: 'Spoke to Milo with his class teacher.',
      });
      assert.equal(escalated.statusCode, 303);
      const incidentId = escalated.location!.split('/').pop()!;
      const actor = { kind: 'user' as const, schoolId, userId: dslUser.userId, displayName: 'Dana Lead', roles: ['dsl' as const] };
      const incident = await haven.services.incidents.get({ schoolId, actor }, incidentId);
      assert.match(incident.incident.what_happened, /how to kill myself/);
      assert.match(incident.incident.what_happened, /www\.google\.co\.uk/);
      assert.match(incident.incident.what_happened, new RegExp(alert.reference));
      assert.equal(incident.incident.source, 'monitoring');
      assert.ok(incident.people.some((person) => person.personId === pupilId && person.role === 'affected'));
      const linked = await haven.services.handle.db.selectFrom('monitor_alerts').selectAll().where('id', '=', alert.id).executeTakeFirstOrThrow();
      assert.equal(linked.incident_id, incidentId);
      assert.equal(linked.status, 'escalated');
      const chronology = await dsl.get(`/people/${pupilId}/chronology`);
      assert.match(chronology.body, new RegExp(alert.reference), 'the alert is in the pupil’s chronology');
    });

    it('does not store a line twice when the same file is ingested again', async () => {
      const log = join(dir, 'access.log');
      const before = { events: await count('web_events'), daily: await count('web_activity'), alerts: await count('monitor_alerts') };
      const again = await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log });
      assert.equal(again.lines, 0);
      assert.equal(again.skipped, 0, 'a plain file is read from where it stopped');
      assert.deepEqual({ events: await count('web_events'), daily: await count('web_activity'), alerts: await count('monitor_alerts') }, before);
      // The same lines gzipped (a rotated log compressed) are the same source: read through, not stored again.
      const gz = join(dir, 'access.log.1.gz');
      writeFileSync(gz, gzipSync(readFileSync(log)));
      const zipped = await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: gz });
      assert.equal(zipped.lines, 0);
      assert.equal(zipped.skipped, 3);
      assert.deepEqual({ events: await count('web_events'), daily: await count('web_activity'), alerts: await count('monitor_alerts') }, before);
    });

    it('folds ten matching searches in five minutes into one alert with a count of 10', async () => {
      const start = new Date(haven.clock().getTime() - 7_200_000);
      const log = join(dir, 'repeat.log');
      const lines = Array.from({ length: 10 }, (_, index) =>
        squidLine(new Date(start.getTime() + index * 30_000), '10.50.9.9', search(index % 2 ? 'how to kill myself' : 'how can i kill myself')),
      );
      writeFileSync(log, `${lines.join('\n')}\n`);
      const outcome = await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log });
      assert.equal(outcome.alerts, 1);
      const alerts = await haven.services.handle.db
        .selectFrom('monitor_alerts')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where('subject', '=', 'ip:10.50.9.9')
        .execute();
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.count, 10);
      assert.equal(alerts[0]!.person_id, null, 'a device without a user name is known by its address');
      // An eleventh, well after the window, is a new alert.
      appendFileSync(log, `${squidLine(new Date(start.getTime() + 20 * 60_000), '10.50.9.9', search('how to kill myself'))}\n`);
      await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log });
      assert.equal((await haven.services.handle.db.selectFrom('monitor_alerts').select('id').where('subject', '=', 'ip:10.50.9.9').execute()).length, 2);
    });

    it('sends alerts about staff to the headteacher only', async () => {
      const log = join(dir, 'staff.log');
      writeFileSync(log, `${squidLine(new Date(haven.clock().getTime() - 600_000), '10.60.1.1', 'http://adult-sample.test/', 'o.marsh', 'TCP_DENIED/403')}\n`);
      const outcome = await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log });
      assert.equal(outcome.blocked, 1);
      assert.equal(outcome.alerts, 1);
      const alert = await haven.services.handle.db.selectFrom('monitor_alerts').selectAll().where('person_id', '=', staffPersonId).executeTakeFirstOrThrow();
      assert.equal(alert.about_staff, 1);
      assert.equal(alert.theme, 'pornography');
      assert.equal((await dsl.get(`/monitoring/alerts/${alert.id}`)).statusCode, 404);
      assert.doesNotMatch((await dsl.get('/monitoring/alerts?status=any')).body, new RegExp(alert.reference));
      assert.equal((await head.get(`/monitoring/alerts/${alert.id}`)).statusCode, 200);
      assert.match((await head.get('/monitoring/alerts?status=any')).body, new RegExp(alert.reference));
      // The home page counts open alerts; the staff alert only in the headteacher's count.
      const openCount = async (agent: TestAgent) => Number(/data-qa="open-alerts">(\d+)</.exec((await agent.get('/')).body)?.[1]);
      assert.equal(await openCount(head), (await openCount(dsl)) + 1);
      // Below severity 4: into the digest, the headteacher's.
      const sent = await haven.services.monitoring.sendDigest(schoolId);
      assert.ok(sent >= 1);
      const headNotes = await haven.services.notifications.list(
        schoolId,
        (await haven.services.users.list(schoolId)).find((user) => user.roles.includes('headteacher'))!.id,
      );
      assert.ok(headNotes.some((note) => /about staff/.test(note.title)));
      const dslNotes = await haven.services.notifications.list(schoolId, dslUser.userId);
      assert.ok(!dslNotes.some((note) => /about staff/.test(note.title)));
    });

    it('counts bad lines with their numbers and never stops on them', async () => {
      const log = join(dir, 'odd.log');
      const at = new Date(haven.clock().getTime() - 300_000);
      writeFileSync(
        log,
        [
          squidLine(at, '10.50.1.1', 'http://fine.example/'),
          'this is not a squid line',
          `not-a-time 12 10.50.1.1 TCP_MISS/200 10 GET http://x.example/?q=secret+words - HIER_NONE/- -`,
          squidLine(at, '10.50.1.2', 'http://fine.example/two'),
        ].join('\n') + '\n',
      );
      const outcome = await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log });
      assert.equal(outcome.lines, 4);
      assert.equal(outcome.bad, 2);
      assert.deepEqual(
        outcome.badSamples.map((sample) => sample.line),
        [2, 3],
      );
      assert.doesNotMatch(JSON.stringify(outcome.badSamples), /secret/, 'samples stop before the query string');
      const data = await head.get('/monitoring/data');
      assert.equal(data.statusCode, 200);
      assert.match(data.body, /this is not a squid line/);
    });

    it('keeps following a log after it is renamed and a new one is started', async () => {
      const log = join(dir, 'follow.log');
      const at = haven.clock().getTime() - 100_000;
      writeFileSync(log, `${squidLine(new Date(at), '10.50.7.1', 'http://adult-sample.test/a', '-', 'TCP_DENIED/403')}\n`);
      const stop = new AbortController();
      const running = haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log, follow: true, pollMs: 40, signal: stop.signal });
      const blockedFrom = async () =>
        Number(
          (
            await haven.services.handle.db
              .selectFrom('web_events')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('school_id', '=', schoolId)
              .where('client', '=', '10.50.7.1')
              .executeTakeFirstOrThrow()
          ).n,
        );
      await waitFor(async () => (await blockedFrom()) === 1, 'the first line');
      appendFileSync(log, `${squidLine(new Date(at + 1000), '10.50.7.1', 'http://adult-sample.test/b', '-', 'TCP_DENIED/403')}\n`);
      await waitFor(async () => (await blockedFrom()) === 2, 'the appended line');
      // Rotation: the file is renamed, a last line lands in the old file, and a new file begins.
      renameSync(log, `${log}.1`);
      appendFileSync(`${log}.1`, `${squidLine(new Date(at + 2000), '10.50.7.1', 'http://adult-sample.test/c', '-', 'TCP_DENIED/403')}\n`);
      writeFileSync(log, `${squidLine(new Date(at + 3000), '10.50.7.1', 'http://adult-sample.test/d', '-', 'TCP_DENIED/403')}\n`);
      await waitFor(async () => (await blockedFrom()) >= 4, 'the new file and the old file’s last line');
      appendFileSync(log, `${squidLine(new Date(at + 4000), '10.50.7.1', 'http://adult-sample.test/e', '-', 'TCP_DENIED/403')}\n`);
      await waitFor(async () => (await blockedFrom()) >= 5, 'the new file growing');
      stop.abort();
      const outcome = await running;
      assert.equal(await blockedFrom(), 5, 'every line of both files, each once');
      assert.equal(outcome.lines, 5);
      const hosts = await haven.services.handle.db.selectFrom('web_events').select('at').where('client', '=', '10.50.7.1').orderBy('at').execute();
      assert.equal(new Set(hosts.map((row) => row.at)).size, 5);
      // Reading the renamed file again stores nothing more.
      await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: `${log}.1` });
      assert.equal(await blockedFrom(), 5);
    });

    it('stores a followed log’s ordinary lines every few seconds rather than at every poll, and what was read when it stops', async () => {
      const log = join(dir, 'follow-batched.log');
      const at = haven.clock().getTime() - 200_000;
      const visit = (offset: number) => squidLine(new Date(at + offset), '10.50.8.1', `http://library-${offset}.example/`);
      writeFileSync(log, `${visit(0)}\n`);
      const stop = new AbortController();
      let read = 0;
      const running = haven.services.monitoring.ingestFile(context(), {
        format: 'squid',
        path: log,
        follow: true,
        pollMs: 250, // stores every 5 s
        signal: stop.signal,
        onProgress: (outcome) => (read = outcome.lines),
      });
      const storedLines = async () =>
        Number(
          (
            await haven.services.handle.db
              .selectFrom('monitor_sources')
              .select('lines')
              .where('school_id', '=', schoolId)
              .where('label', '=', log)
              .executeTakeFirst()
          )?.lines ?? 0,
        );
      await waitFor(async () => read === 1, 'the first line read');
      for (let i = 1; i <= 3; i += 1) appendFileSync(log, `${visit(i * 1000)}\n`);
      await waitFor(async () => read === 4, 'the added lines read');
      assert.ok((await storedLines()) < 4, 'read but not yet stored: a poll is not a transaction');
      await waitFor(async () => (await storedLines()) === 4, 'stored within the interval', 10_000);
      appendFileSync(log, `${visit(5000)}\n`);
      await waitFor(async () => read === 5, 'the last line read');
      stop.abort();
      await running;
      assert.equal(await storedLines(), 5, 'what was read is stored on stopping');
      const visits = await haven.services.handle.db.selectFrom('web_activity').select('site_count').where('subject', '=', 'ip:10.50.8.1').execute();
      assert.equal(
        visits.reduce((sum, row) => sum + Number(row.site_count), 0),
        5,
      );
    });

    it('takes batches from an integration with a token, and a repeated batch is not stored twice', async () => {
      const { token } = await haven.services.apiTokens.create(schoolId, { name: 'Log shipper', scopes: ['monitoring.ingest'] }, { schoolId });
      const at = new Date(haven.clock().getTime() - 50_000);
      const payload = {
        format: 'squid',
        source: 'proxy-1',
        batchId: 'proxy-1-000001',
        lines: [
          squidLine(at, '10.50.8.8', search('how to kill myself')),
          'garbage line',
          squidLine(at, '10.50.8.8', 'http://adult-sample.test/', '-', 'TCP_DENIED/403'),
        ],
      };
      const send = () => haven.app.inject({ method: 'POST', url: '/api/v1/monitoring/logs', headers: { authorization: `Bearer ${token}` }, payload });
      const first = await send();
      assert.equal(first.statusCode, 200, first.body);
      const body = first.json<{ lines: number; bad: number; events: number; duplicate: boolean }>();
      assert.deepEqual([body.lines, body.bad, body.events, body.duplicate], [3, 1, 2, false]);
      const eventsAfter = await count('web_events');
      const second = await send();
      assert.equal(second.json<{ duplicate: boolean }>().duplicate, true);
      assert.equal(await count('web_events'), eventsAfter);
      const unauthenticated = await haven.app.inject({ method: 'POST', url: '/api/v1/monitoring/logs', payload });
      assert.equal(unauthenticated.statusCode, 401);
      const { token: other } = await haven.services.apiTokens.create(schoolId, { name: 'Reader', scopes: ['people.read'] }, { schoolId });
      assert.equal(
        (await haven.app.inject({ method: 'POST', url: '/api/v1/monitoring/logs', headers: { authorization: `Bearer ${other}` }, payload })).statusCode,
        403,
      );
    });

    it('dismisses a false positive, counting it against the phrases that made it', async () => {
      const alert = await haven.services.handle.db
        .selectFrom('monitor_alerts')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where('status', '=', 'open')
        .where('kind', '=', 'phrase')
        .executeTakeFirstOrThrow();
      const refused = await dsl.post(`/monitoring/alerts/${alert.id}/dismiss`, { reason: '' });
      assert.equal(refused.statusCode, 400);
      const done = await dsl.post(`/monitoring/alerts/${alert.id}/dismiss`, { reason: 'A line from a book the class is reading.', falsePositive: 'yes' });
      assert.equal(done.statusCode, 303);
      const phrases = await dsl.get('/monitoring/phrases');
      const matched = JSON.parse(alert.matched) as string[];
      assert.ok(matched.length > 0);
      const falsePositives = /data-qa="false-positives"[\s\S]*?<\/table>/.exec(phrases.body)![0];
      for (const phrase of matched)
        assert.match(falsePositives, new RegExp(`${phrase.replace(/[|+]/g, '.')}</td><td class="govuk-table__cell govuk-table__cell--numeric">1<`));
      // A repeat after the dismissal is a new alert, not folded into the dismissed one.
      const log = join(dir, 'after-dismissal.log');
      writeFileSync(log, `${squidLine(new Date(Date.parse(alert.last_at) + 60_000), alert.client, search(alert.search_term!), '-')}\n`);
      assert.equal((await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log })).alerts, 1);
      // Dismissed already: a second dismissal or an escalation is refused, not recorded twice.
      assert.equal((await dsl.post(`/monitoring/alerts/${alert.id}/dismiss`, { reason: 'Again' })).statusCode, 400);
    });

    it('versions the phrase list, refusing a list with errors line by line', async () => {
      const bad = await dsl.post('/monitoring/phrases', { text: 'suicide | 10 | 5 | end it all\nselfharm | 5 | 3 | cutting\n', note: 'Test' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /Line 2/);
      const good = await dsl.post('/monitoring/phrases', {
        text: 'suicide | 10 | 5 | end it all\nbullying | 10 | 3 | everyone hates me\n',
        note: 'Shorter list for a test',
      });
      assert.equal(good.statusCode, 303);
      const list = await haven.services.monitoring.phraseList(schoolId);
      assert.equal(list.current.version, 2);
      assert.equal(list.versions.length, 2);
      const log = join(dir, 'new-list.log');
      writeFileSync(log, `${squidLine(new Date(haven.clock().getTime() - 20_000), '10.50.2.2', search('everyone hates me'))}\n`);
      assert.equal((await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: log })).alerts, 1, 'the new version is used at once');
    });

    it('reports for the head and DSL with names, and for governors with counts only and small numbers hidden', async () => {
      const report = await dsl.get('/monitoring/reports?from=2000-01-01&to=2100-01-01');
      assert.equal(report.statusCode, 200);
      assert.match(report.body, /Pornography/);
      assert.match(report.body, /adult-sample\.test/);
      assert.doesNotMatch(report.body, /Marsh/, 'staff are named to the headteacher alone');
      assert.match((await head.get('/monitoring/reports?from=2000-01-01&to=2100-01-01')).body, /Marsh/);
      // Which sites someone visited: pupils for the DSL, staff for the headteacher only.
      assert.equal((await dsl.get(`/people/${pupilId}/web-activity?from=2000-01-01&to=2100-01-01`)).statusCode, 200);
      assert.equal((await dsl.get(`/people/${staffPersonId}/web-activity?from=2000-01-01&to=2100-01-01`)).statusCode, 404);
      assert.match((await head.get(`/people/${staffPersonId}/web-activity?from=2000-01-01&to=2100-01-01`)).body, /adult-sample\.test/);
      const csv = await dsl.get('/monitoring/reports.csv?from=2000-01-01&to=2100-01-01');
      assert.equal(csv.statusCode, 200);
      assert.match(csv.body, /Top blocked sites,adult-sample\.test,\d+/);
      const governor = await buildUser(haven.services, schoolId, ['governor'], { twoFactor: true });
      const governorAgent = new TestAgent(haven.app);
      await governorAgent.signIn(governor.email, governor.password, governor.totpSecret, haven.clock);
      const summary = await governorAgent.get('/monitoring/governors?from=2000-01-01&to=2100-01-01');
      assert.equal(summary.statusCode, 200);
      const table = (qa: string) => new RegExp(`data-qa="${qa}"[\\s\\S]*?</table>`).exec(summary.body)?.[0] ?? '';
      assert.match(table('gov-blocked-by-category'), /Pornography/);
      assert.match(table('gov-alerts-by-theme'), />&lt;5</, 'a theme with 1 to 4 alerts shows <5');
      assert.doesNotMatch(table('gov-alerts-by-theme') + table('gov-blocked-by-category'), />[1-4]</, 'no count from 1 to 4 is shown');
      assert.doesNotMatch(summary.body, /adult-sample|Milo|Fenwick|kill|Marsh/);
      assert.equal((await governorAgent.get('/monitoring/reports')).statusCode, 403);
      assert.equal((await governorAgent.get('/monitoring/alerts')).statusCode, 403);
    });

    it('purges raw events after the retention period and keeps the alerts', async () => {
      const alerts = await count('monitor_alerts');
      assert.ok((await count('web_events')) > 0);
      haven.clock.advance(91 * 86_400_000);
      const purged = await haven.services.monitoring.purge(schoolId);
      assert.ok(purged.events > 0);
      assert.equal(await count('web_events'), 0);
      assert.equal(await count('web_activity'), 0);
      assert.equal(await count('monitor_alerts'), alerts);
    });
  });
}

for (const dialect of dialects()) {
  describe(`monitoring: who hears of an alert, and lines that must not stop an ingest (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let dir: string;
    let head: TestAgent;
    const context = () => ({ schoolId });
    const ingest = (name: string, lines: string[]) => {
      const path = join(dir, name);
      writeFileSync(path, `${lines.join('\n')}\n`);
      return haven.services.monitoring.ingestFile(context(), { format: 'squid', path });
    };
    const alertsOf = (subject: string) =>
      haven.services.handle.db
        .selectFrom('monitor_alerts')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where('subject', '=', subject)
        .orderBy('first_at')
        .execute();

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      head = new TestAgent(haven.app);
      await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
      await haven.services.filtering.addCategoryList(
        context(),
        { name: 'Adult sample', category: 'pornography', source: null, format: 'domains' },
        { domains: ['adult-sample.test'], urls: [] },
      );
      await haven.services.filtering.addNetwork(context(), { cidr: '10.10.0.0/16', groupCode: 'all_staff:staff', label: 'Staff network' });
      dir = mkdtempSync(join(tmpdir(), 'haven-monitor-'));
    });
    after(async () => {
      await haven.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores and notifies every alert when one person’s searches fall in two windows of the same ingest', async () => {
      const deputy = await buildUser(haven.services, schoolId, ['deputy_dsl'], { twoFactor: true });
      const lead = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      const at = haven.clock().getTime() - 5 * 3_600_000;
      const outcome = await ingest('two-windows.log', [
        squidLine(new Date(at), '10.70.1.1', search('how to kill myself')),
        squidLine(new Date(at + 30 * 60_000), '10.70.1.1', search('how to kill myself')),
        squidLine(new Date(at + 31 * 60_000), '10.70.1.1', search('how to kill myself')),
      ]);
      assert.equal(outcome.alerts, 2);
      const alerts = await alertsOf('ip:10.70.1.1');
      assert.deepEqual(
        alerts.map((alert) => [alert.count, alert.severity, Boolean(alert.notified_at)]),
        [
          [1, 5, true],
          [2, 5, true],
        ],
      );
      // Both new alerts of the one batch get their own reference, one after the other, after every earlier one.
      const numbers = alerts.map((alert) => Number(/^AL-\d{4}-(\d{5})$/.exec(alert.reference)?.[1]));
      assert.equal(numbers[1], numbers[0]! + 1, alerts.map((alert) => alert.reference).join(' '));
      const everyReference = (await haven.services.handle.db.selectFrom('monitor_alerts').select('reference').where('school_id', '=', schoolId).execute()).map(
        (row) => row.reference,
      );
      assert.equal(new Set(everyReference).size, everyReference.length, 'references are never reused');
      const deputyNotes = await haven.services.notifications.list(schoolId, deputy.userId);
      for (const alert of alerts)
        assert.ok(
          deputyNotes.some((note) => note.title.includes(alert.reference)),
          'the deputy DSL is told at once',
        );
      assert.ok(
        deputyNotes.every((note) => !/kill|severity/i.test(note.title)),
        'a reference only',
      );
      const leadNotes = await haven.services.notifications.list(schoolId, lead.userId);
      assert.equal(leadNotes.length, 0, 'the e-safety lead hears of the rest in the digest, not of these at once');
      // A pupil-level alert below 4 goes to the DSLs and the e-safety lead in the digest.
      await ingest('digest.log', [squidLine(new Date(at + 3_600_000), '10.70.2.2', 'http://adult-sample.test/', '-', 'TCP_DENIED/403')]);
      assert.ok((await haven.services.monitoring.sendDigest(schoolId)) >= 1);
      assert.ok((await haven.services.notifications.list(schoolId, lead.userId)).some((note) => /monitoring alert/.test(note.title)));
      assert.equal(await haven.services.monitoring.sendDigest(schoolId), 0, 'each alert is in one digest');
    });

    it('keeps an escalated alert about staff on the allegation route, away from the e-safety lead', async () => {
      const lead = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true });
      const leadAgent = new TestAgent(haven.app);
      await leadAgent.signIn(lead.email, lead.password, lead.totpSecret, haven.clock);
      const at = haven.clock().getTime() - 2 * 3_600_000;
      // A staff device without a user name: the alert is treated as about staff.
      await ingest('staff-device.log', [squidLine(new Date(at), '10.10.4.4', search('how to kill myself'))]);
      const [alert] = await alertsOf('ip:10.10.4.4');
      assert.equal(alert!.about_staff, 1);
      assert.equal((await leadAgent.get(`/monitoring/alerts/${alert!.id}`)).statusCode, 404);
      const page = await head.get(`/monitoring/alerts/${alert!.id}`);
      const typeId = /<option value="([0-9a-f-]{36})" selected>/.exec(page.body)![1]!;
      const escalated = await head.post(`/monitoring/alerts/${alert!.id}/escalate`, { typeId, role: 'other' });
      assert.equal(escalated.statusCode, 303);
      const incidentId = escalated.location!.split('/').pop()!;
      const row = await haven.services.handle.db.selectFrom('incidents').select('visibility').where('id', '=', incidentId).executeTakeFirstOrThrow();
      assert.equal(row.visibility, 'allegation');
      assert.equal((await leadAgent.get(`/incidents/${incidentId}`)).statusCode, 404);
      // A second escalation of the same alert is refused: one alert, one incident.
      assert.equal((await head.post(`/monitoring/alerts/${alert!.id}/escalate`, { typeId, role: 'other' })).statusCode, 400);
    });

    it('lets the technician see what is kept but never an alert or a report', async () => {
      const technician = await buildUser(haven.services, schoolId, ['technician']);
      const agent = new TestAgent(haven.app);
      await agent.signIn(technician.email, technician.password);
      assert.equal((await agent.get('/monitoring/data')).statusCode, 200);
      for (const path of ['/monitoring/alerts', '/monitoring/reports', '/monitoring/reports.csv', '/monitoring/phrases', '/monitoring/governors'])
        assert.equal((await agent.get(path)).statusCode, 403, path);
    });

    it('refuses a line with a NUL byte, and keeps the lines before a damaged gzip’s end', async () => {
      const at = new Date(haven.clock().getTime() - 3_600_000);
      const nul = await ingest('nul.log', [
        squidLine(at, '10.70.3.3', 'http://fine.example/'),
        squidLine(at, '10.70.3.3', 'http://bad\u0000host.example/', '-', 'TCP_DENIED/403'),
        squidLine(at, '10.70.3.3', `${search('homework')}%00`),
      ]);
      assert.equal(nul.lines, 3);
      assert.equal(nul.bad, 1);
      const lines = Array.from({ length: 2000 }, (_, index) => squidLine(new Date(at.getTime() + index), '10.70.4.4', `http://site${index}.example/page`));
      const whole = gzipSync(Buffer.from(`${lines.join('\n')}\n`));
      const cut = join(dir, 'cut.log.gz');
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.7)));
      const outcome = await haven.services.monitoring.ingestFile(context(), { format: 'squid', path: cut });
      assert.ok(outcome.lines > 100, 'the lines before the damage are read');
      assert.ok(outcome.badSamples.some((sample) => /damaged or cut short/.test(sample.reason)));
      const days = await haven.services.handle.db
        .selectFrom('web_activity')
        .select((eb) => eb.fn.sum<number>('site_count').as('n'))
        .where('school_id', '=', schoolId)
        .where('subject', '=', 'ip:10.70.4.4')
        .executeTakeFirstOrThrow();
      assert.equal(Number(days.n), outcome.lines, 'every site read is counted');
    });

    it('answers report pages with impossible dates and odd filters without an error', async () => {
      for (const path of [
        '/monitoring/reports?to=2026-13-45',
        '/monitoring/reports?from=2026-02-31&to=2026-03-01',
        '/monitoring/reports.csv?from=9999-99-99',
        '/monitoring/governors?to=2026-02-30',
        '/monitoring/alerts?theme=%00&severity=9&status=%00',
      ])
        assert.equal((await head.get(path)).statusCode, 200, path);
      assert.equal((await head.get('/monitoring/phrases/99999999999')).statusCode, 404);
    });
  });
}
