import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildParentOf, buildSchool, buildUser } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`the video-conference log (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let head: TestAgent;
    let teacher: TestAgent;
    let supervisorId: string;
    let pupils: Array<{ id: string; parentId: string }>;

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      head = new TestAgent(haven.app);
      await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
      const teacherUser = await buildUser(haven.services, schoolId, ['staff'], { staffRecord: true, name: 'Vic Video' });
      supervisorId = teacherUser.personId!;
      teacher = new TestAgent(haven.app);
      await teacher.signIn(teacherUser.email, teacherUser.password);
      pupils = [];
      for (const name of ['Ada', 'Bea']) {
        const pupil = await haven.services.people.create(
          schoolId,
          { kind: 'pupil', legalFirstName: name, legalLastName: 'Lens', yearGroup: 5, className: '5V' },
          { schoolId },
        );
        const parent = await buildParentOf(haven.services, schoolId, pupil.id);
        pupils.push({ id: pupil.id, parentId: parent.id });
      }
    });
    after(() => haven.close());

    async function request(recorded: boolean, startsAt = '2026-11-25T10:00') {
      const response = await teacher.post('/video-conferences', {
        class: '5V',
        startsAt,
        minutes: '45',
        purpose: 'Question time with a marine biologist',
        externalEndpoints: 'Sea Life Trust outreach team, over the school conferencing account',
        supervisorId,
        pupilIds: pupils.map((pupil) => pupil.id),
        ...(recorded ? { recorded: 'yes' } : {}),
      });
      assert.equal(response.statusCode, 303, response.body.slice(0, 300));
      return response.headers.location as string;
    }

    it('is requested by staff, approved by the headteacher beforehand, then held; all audited and in the CSV', async () => {
      const form = await teacher.get('/video-conferences/new?class=5V');
      assert.match(form.body, /Ada Lens/);
      const past = await teacher.post('/video-conferences', {
        startsAt: '2026-11-20T10:00',
        minutes: '30',
        purpose: 'x',
        externalEndpoints: 'y',
        supervisorId,
      });
      assert.equal(past.statusCode, 400, 'approval is beforehand: no conference in the past');
      const path = await request(false);
      assert.match((await teacher.get(path)).body, /data-qa="status">Waiting for the headteacher/);
      assert.equal((await teacher.post(`${path}/decision`, { decision: 'approve', note: 'Fine' })).statusCode, 403, 'only the headteacher approves');
      assert.equal((await teacher.post(`${path}/held`, {})).statusCode, 409, 'not held before it is approved');
      assert.equal((await head.post(`${path}/decision`, { decision: 'approve', note: 'Educational, supervised' })).statusCode, 303);
      assert.match((await head.get(path)).body, /data-qa="status">Approved/);
      haven.clock.advance(3 * 86_400_000);
      const teacherAgain = new TestAgent(haven.app);
      const account = (await haven.services.users.list(schoolId)).find((candidate) => candidate.displayName === 'Vic Video')!;
      await teacherAgain.signIn(account.email, 'correct-horse-battery');
      assert.equal((await teacherAgain.post(`${path}/held`, { heldNote: 'Went well' })).statusCode, 303);
      assert.match((await teacherAgain.get(path)).body, /data-qa="status">Held/);
      const csv = await teacherAgain.get('/video-conferences.csv?status=held');
      assert.match(csv.body, /^Reference,Starts,Ends,Purpose/);
      assert.match(csv.body, /VC-0001,2026-11-25T10:00:00.000Z,2026-11-25T10:45:00.000Z,Question time with a marine biologist,/);
      const actions = (await haven.services.audit.list(schoolId, {}, 1)).map((event) => event.action);
      for (const action of ['video_conference.requested', 'video_conference.approved', 'video_conference.held'])
        assert.ok(actions.includes(action), `${action} audited`);
      haven.clock.advance(-3 * 86_400_000);
    });

    it('refuses to approve a recorded conference until every pupil has video-conference consent and the adults have agreed in writing', async () => {
      const path = await request(true, '2026-11-26T14:00');
      const refused = await head.post(`${path}/decision`, { decision: 'approve', note: 'Recorded for the website', writtenConsent: 'yes' });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /Ada Lens, Bea Lens/);
      const video = (await haven.services.consents.purposes(schoolId)).find((purpose) => purpose.code === 'video_conference')!;
      for (const pupil of pupils)
        await haven.services.consents.record(
          { schoolId },
          { pupilId: pupil.id, purposeId: video.id, parentId: pupil.parentId, decision: 'given', method: 'paper' },
        );
      const noWritten = await head.post(`${path}/decision`, { decision: 'approve', note: 'Recorded for the website' });
      assert.equal(noWritten.statusCode, 400);
      assert.match(noWritten.body, /agreed in writing/);
      // A withdrawal takes effect at once.
      await haven.services.consents.record(
        { schoolId },
        { pupilId: pupils[1]!.id, purposeId: video.id, parentId: pupils[1]!.parentId, decision: 'withdrawn', method: 'in_person' },
      );
      assert.match((await head.post(`${path}/decision`, { decision: 'approve', note: 'x', writtenConsent: 'yes' })).body, /Bea Lens/);
      await haven.services.consents.record(
        { schoolId },
        { pupilId: pupils[1]!.id, purposeId: video.id, parentId: pupils[1]!.parentId, decision: 'given', method: 'paper' },
      );
      assert.equal((await head.post(`${path}/decision`, { decision: 'approve', note: 'Recorded for the website', writtenConsent: 'yes' })).statusCode, 303);
      assert.match((await head.get(path)).body, /written consent of all adults confirmed/);
    });

    it('keeps each school’s conferences to itself', async () => {
      const other = await buildSchool(haven.services, 'Elsewhere Academy');
      const otherHead = new TestAgent(haven.app);
      await otherHead.signIn(other.head.email, other.head.password, other.head.totpSecret, haven.clock);
      const mine = (await haven.services.videoLog.list(schoolId))[0]!;
      assert.equal((await otherHead.get(`/video-conferences/${mine.id}`)).statusCode, 404);
      assert.equal((await otherHead.post(`/video-conferences/${mine.id}/cancel`)).statusCode, 404);
      assert.doesNotMatch((await otherHead.get('/video-conferences')).body, /VC-0001/);
    });

    it('records no decision when neither approve nor decline is chosen', async () => {
      const path = await request(false, '2026-11-27T10:00');
      const none = await head.post(`${path}/decision`, { note: 'Fine' });
      assert.equal(none.statusCode, 400);
      assert.match(none.body, /Choose whether to approve or decline/);
      assert.match((await head.get(path)).body, /data-qa="status">Waiting for the headteacher/);
      assert.equal((await head.post(`${path}/decision`, { decision: 'decline', note: 'Not this term' })).statusCode, 303);
      assert.match((await head.get(path)).body, /data-qa="status">Declined/);
      assert.equal((await teacher.post(`${path}/held`, {})).statusCode, 409, 'a declined conference is never held');
      const actions = (await haven.services.audit.list(schoolId, {}, 1)).map((event) => event.action);
      assert.ok(actions.includes('video_conference.declined'));
    });

    it('refuses approval once the conference has started', async () => {
      const path = await request(false, '2026-11-23T09:05');
      assert.match((await head.get(path)).body, /data-qa="decide-conference"/);
      haven.clock.advance(6 * 60_000);
      try {
        const late = await head.post(`${path}/decision`, { decision: 'approve', note: 'Sorry, only just seen it' });
        assert.equal(late.statusCode, 409);
        assert.match(late.body, /already started: approval must be given beforehand/);
        assert.doesNotMatch(late.body, /data-qa="decide-conference"/, 'no decision form after the start');
        assert.match((await head.get(path)).body, /data-qa="status">Waiting for the headteacher/);
        assert.equal((await head.post(`${path}/cancel`)).statusCode, 303);
        const actions = (await haven.services.audit.list(schoolId, {}, 1)).map((event) => event.action);
        assert.ok(actions.includes('video_conference.cancelled'));
        const { row } = await haven.services.videoLog.get(schoolId, path.split('/').pop()!);
        assert.equal(row.status, 'cancelled');
        assert.equal(row.decided_at, null, 'the late approval left no decision behind');
      } finally {
        haven.clock.set('2026-11-23T09:00:00.000Z');
      }
    });

    it('lists conferences still waiting for a decision first, soonest first, and filters by status and the school’s dates', async () => {
      const later = await request(false, '2026-12-10T10:00');
      const sooner = await request(false, '2026-12-01T10:00');
      // 00:30 in London on 1 June is 23:30 UTC on 31 May: it belongs to 1 June.
      const summer = await request(false, '2027-06-01T00:30');
      const held = (await haven.services.videoLog.list(schoolId, { status: 'held' }))[0]!;
      const list = (await teacher.get('/video-conferences')).body;
      const at = (path: string) => list.indexOf(`href="${path}"`);
      assert.ok(at(sooner) >= 0 && at(later) >= 0 && at(summer) >= 0);
      assert.ok(at(sooner) < at(later) && at(later) < at(summer), 'waiting ones soonest first');
      assert.ok(at(summer) < at(`/video-conferences/${held.id}`), 'waiting ones before the rest');

      const waiting = (await teacher.get('/video-conferences?status=requested')).body;
      assert.ok(waiting.includes(`href="${sooner}"`));
      assert.doesNotMatch(waiting, new RegExp(held.reference));

      const june = await teacher.get('/video-conferences.csv?from=2027-06-01&to=2027-06-01');
      const lines = june.body.trim().split('\r\n');
      assert.equal(lines.length, 2, june.body);
      assert.match(
        lines[1]!,
        /^VC-\d{4},2027-05-31T23:30:00.000Z,2027-06-01T00:15:00.000Z,Question time with a marine biologist,"Sea Life Trust outreach team, over the school conferencing account",Vic Video,2,,no,no,Waiting for the headteacher,$/,
      );
      assert.equal((await teacher.get('/video-conferences.csv?from=2027-05-31&to=2027-05-31')).body.trim().split('\r\n').length, 1);
    });
  });
}
