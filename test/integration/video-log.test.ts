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
  });
}
