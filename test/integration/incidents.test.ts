import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildPupil, buildSchool, buildUser } from '../support/factories.js';

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]);

function multipart(fields: Record<string, string>, file: { field: string; name: string; type: string; content: Buffer }) {
  const boundary = `----haven${Date.now()}${Math.random()}`;
  const parts: Buffer[] = Object.entries(fields).map(([name, value]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
  );
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`),
    file.content,
    Buffer.from('\r\n'),
  );
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

for (const dialect of dialects()) {
  describe(`reporting and responding to concerns (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let teacher: TestAgent;
    let dsl: TestAgent;
    let head: TestAgent;
    let esafety: TestAgent;
    let typeId: (code: string) => string;
    let teacherUserId: string;

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      const types = await haven.services.incidents.typesFor(schoolId);
      typeId = (code) => types.find((type) => type.code === code)!.id;
      const teacherUser = await buildUser(haven.services, schoolId, ['staff'], { name: 'Tess Teacher' });
      teacherUserId = teacherUser.userId;
      const dslUser = await buildUser(haven.services, schoolId, ['dsl'], { twoFactor: true, name: 'Dee Dsl' });
      const leadUser = await buildUser(haven.services, schoolId, ['esafety_lead'], { twoFactor: true, name: 'Eli Lead' });
      teacher = new TestAgent(haven.app);
      await teacher.signIn(teacherUser.email, teacherUser.password);
      dsl = new TestAgent(haven.app);
      await dsl.signIn(dslUser.email, dslUser.password, dslUser.totpSecret, haven.clock);
      esafety = new TestAgent(haven.app);
      await esafety.signIn(leadUser.email, leadUser.password, leadUser.totpSecret, haven.clock);
      head = new TestAgent(haven.app);
      await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
    });
    after(() => haven.close());

    async function report(agent: TestAgent, form: Record<string, string | string[]>) {
      const response = await agent.post('/concerns', { occurredAt: '2026-11-23T08:30', whatHappened: 'Messages were sent.', ...form });
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      const reference = /data-qa="reference">([^<]+)</.exec(response.body)![1]!;
      const row = await haven.services.handle.db
        .selectFrom('incidents')
        .select('id')
        .where('school_id', '=', schoolId)
        .where('reference', '=', reference)
        .executeTakeFirstOrThrow();
      return { reference, id: row.id };
    }

    async function recordAllOpenSteps(agent: TestAgent, id: string) {
      const page = await agent.get(`/incidents/${id}`);
      const open = [...page.body.matchAll(/data-qa="done-([a-z_.]+)"/g)].map((match) => match[1]!);
      for (const step of open)
        assert.equal((await agent.post(`/incidents/${id}/steps`, { step, outcome: 'done', note: `Done: ${step}` })).statusCode, 303, step);
      return open;
    }

    it('reports a concern with each person in their own role, tells the DSL, and shows the reporter only the status', async () => {
      const victim = await buildPupil(haven.services, schoolId, { legalFirstName: 'Vic', legalLastName: 'Tim' });
      const instigator = await buildPupil(haven.services, schoolId, { legalFirstName: 'Ian', legalLastName: 'Stig' });
      const witness = await buildPupil(haven.services, schoolId, { legalFirstName: 'Wit', legalLastName: 'Ness' });
      const parent = await haven.services.people.create(schoolId, { kind: 'parent', legalFirstName: 'Pat', legalLastName: 'Parent' }, { schoolId });
      const { reference, id } = await report(teacher, {
        typeIds: [typeId('cyberbullying')],
        location: 'Room 7',
        'person-0': victim.id,
        'role-0': 'victim',
        'person-1': instigator.id,
        'role-1': 'instigator',
        'person-2': witness.id,
        'role-2': 'witness',
        'person-3': parent.id,
        'role-3': 'affected',
        'outside-name-0': 'An online account',
        'outside-description-0': 'Unknown sender',
        'outside-role-0': 'instigator',
      });
      assert.match(reference, /^ES-2026-\d{4}$/);
      const notifications = await haven.services.handle.db
        .selectFrom('notifications')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where('link', '=', `/incidents/${id}`)
        .execute();
      assert.ok(notifications.length >= 2, 'the DSL, e-safety lead and head are told');
      assert.ok(
        notifications.every((notification) => notification.title === `New concern ${reference}`),
        'notifications carry the reference only',
      );
      const page = await dsl.get(`/incidents/${id}`);
      assert.equal(page.statusCode, 200);
      const roles = [...page.body.matchAll(/data-qa="role-\d+">([^<]+)</g)].map((match) => match[1]);
      assert.deepEqual(roles.sort(), ['Affected', 'Instigator', 'Instigator', 'Victim', 'Witness']);
      assert.match(
        page.body,
        /Pat Parent<\/a><\/td><td class="govuk-table__cell" data-qa="role-\d">Affected<\/td><td class="govuk-table__cell">Parent or carer/,
      );
      const mine = await teacher.get('/concerns/mine');
      assert.match(mine.body, new RegExp(`${reference}</td><td class="govuk-table__cell">[^<]+</td><td class="govuk-table__cell">Received`));
      assert.equal((await teacher.get(`/incidents/${id}`)).statusCode, 403, 'a teacher cannot open the incident');
      assert.equal((await teacher.get('/incidents')).statusCode, 403, 'nor the log');
    });

    it('walks the internal track to closure, refusing to close while steps are open', async () => {
      const victim = await buildPupil(haven.services, schoolId);
      const instigator = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, {
        typeIds: [typeId('cyberbullying')],
        'person-0': victim.id,
        'role-0': 'victim',
        'person-1': instigator.id,
        'role-1': 'instigator',
      });
      const badTriage = await esafety.post(`/incidents/${id}/triage`, { severity: 'medium', illegal: 'no' });
      assert.equal(badTriage.statusCode, 400);
      assert.match(badTriage.body, /Give the reason for the severity/);
      assert.equal((await esafety.post(`/incidents/${id}/triage`, { severity: 'medium', severityReason: 'Repeated messages', illegal: 'no' })).statusCode, 303);
      const refused = await esafety.post(`/incidents/${id}/debrief`);
      assert.equal(refused.statusCode, 409);
      assert.match(refused.body, /required steps are still open/);
      const steps = await recordAllOpenSteps(esafety, id);
      assert.ok(
        steps.includes('internal.victim_support') && steps.includes('internal.instigator_sanctions') && steps.includes('cyberbullying.content_removed'),
        steps.join(),
      );
      assert.ok(!steps.some((step) => step.startsWith('illegal.')), 'no illegal-track steps on the internal track');
      const sanctionPage = await esafety.get(`/incidents/${id}`);
      const incidentPersonId = /name="incidentPersonId" value="([^"]+)"/.exec(sanctionPage.body)![1]!;
      assert.match(sanctionPage.body, /Sending an email, text or message regarded as offensive/);
      assert.equal(
        (await esafety.post(`/incidents/${id}/sanctions`, { incidentPersonId, actions: ['warning', 'parents'], note: 'Parents called' })).statusCode,
        303,
      );
      assert.equal((await esafety.post(`/incidents/${id}/debrief`)).statusCode, 303);
      const noLessons = await esafety.post(`/incidents/${id}/close`, { lessonsLearnt: '' });
      assert.equal(noLessons.statusCode, 409);
      assert.equal(
        (
          await esafety.post(`/incidents/${id}/actions`, {
            actionKind: 'training',
            actionDescription: 'Assembly on kindness online',
            actionOwner: 'Eli Lead',
            actionDue: '2026-12-10',
          })
        ).statusCode,
        303,
      );
      assert.equal(
        (await esafety.post(`/incidents/${id}/close`, { lessonsLearnt: 'Year 5 need a refresher', monitoringNote: 'Check in a month' })).statusCode,
        303,
      );
      const closed = await esafety.get(`/incidents/${id}`);
      assert.match(closed.body, /Closed/);
      assert.doesNotMatch(closed.body, /action="\/incidents\/[^"]+\/steps"/, 'closed incidents are read-only');
      assert.equal((await esafety.post(`/incidents/${id}/severity`, { severity: 'high', severityReason: 'x' })).statusCode, 409);
      assert.equal((await esafety.post(`/incidents/${id}/reopen`, { reopenReason: '' })).statusCode, 409, 'reopening needs a reason');
      assert.equal((await esafety.post(`/incidents/${id}/reopen`, { reopenReason: 'New messages found' })).statusCode, 303);
      assert.match((await esafety.get(`/incidents/${id}`)).body, /Reopened — <em>New messages found<\/em>/);
    });

    it('walks the illegal track with a staff allegation, visible to the head and DSL only', async () => {
      const staffPerson = await haven.services.people.create(
        schoolId,
        { kind: 'staff', legalFirstName: 'Sam', legalLastName: 'Staffer', jobTitle: 'Teacher' },
        { schoolId },
      );
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, {
        typeIds: [typeId('illegal_content')],
        'person-0': staffPerson.id,
        'role-0': 'instigator',
        'person-1': pupil.id,
        'role-1': 'affected',
        flags: 'urgent',
      });
      assert.equal((await esafety.get(`/incidents/${id}`)).statusCode, 404, 'the e-safety lead cannot see an allegation, nor learn it exists');
      assert.equal((await dsl.get(`/incidents/${id}`)).statusCode, 404, 'nor can the DSL unless granted');
      assert.equal((await head.post(`/incidents/${id}/share-with-dsl`, { share: 'yes', shareReason: '' })).statusCode, 400, 'sharing needs a reason');
      assert.equal((await head.post(`/incidents/${id}/share-with-dsl`, { share: 'yes', shareReason: 'DSL to lead on LADO referral' })).statusCode, 303);
      assert.equal((await dsl.get(`/incidents/${id}`)).statusCode, 200, 'the DSL sees it once the head shares it');
      assert.equal((await esafety.get(`/incidents/${id}`)).statusCode, 404, 'the e-safety lead still does not');
      assert.equal((await head.post(`/incidents/${id}/share-with-dsl`, { share: 'no', shareReason: 'LADO referral made' })).statusCode, 303);
      assert.equal((await dsl.get(`/incidents/${id}`)).statusCode, 404);
      assert.equal(
        (await head.post(`/incidents/${id}/triage`, { severity: 'high', severityReason: 'Possible illegal material', illegal: 'yes' })).statusCode,
        303,
      );
      const page = await head.get(`/incidents/${id}`);
      for (const step of ['illegal.not_viewed', 'illegal.police', 'illegal.allegation_head', 'illegal.lado', 'illegal.dsl_informed'])
        assert.match(page.body, new RegExp(`data-qa="step-${step.replace('.', '\\.')}"`));
      assert.equal(
        (await head.post(`/incidents/${id}/steps`, { step: 'illegal.ceop_iwf', outcome: 'not_applicable', note: '' })).statusCode,
        400,
        'not applicable needs a reason',
      );
      await recordAllOpenSteps(head, id);
      assert.equal((await head.post(`/incidents/${id}/not-illegal`, { reason: 'Police advised it was not illegal' })).statusCode, 303);
      const internal = await head.get(`/incidents/${id}`);
      assert.match(internal.body, /data-qa="step-internal\.disciplinary"/);
      assert.equal((await head.post(`/incidents/${id}/debrief`)).statusCode, 409, 'internal steps now open');
      await recordAllOpenSteps(head, id);
      assert.equal((await head.post(`/incidents/${id}/debrief`)).statusCode, 303);
      assert.equal((await head.post(`/incidents/${id}/close`, { lessonsLearnt: 'Staff code of conduct refresher' })).statusCode, 303);
      const log = await dsl.get('/incidents');
      assert.doesNotMatch(log.body, new RegExp(id), 'the allegation stays out of the DSL’s log');
      assert.match((await head.get('/incidents')).body, new RegExp(id));
    });

    it('refuses a JPEG for a youth-produced sexual imagery incident and stores nothing', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, { typeIds: [typeId('youth_produced_sexual_imagery')], 'person-0': pupil.id, 'role-0': 'victim' });
      const page = await dsl.get(`/incidents/${id}`);
      assert.match(page.body, /Haven refuses image and video files here/);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const body = multipart(
        { _csrf: csrf, evidenceDescription: 'Screenshot from phone' },
        { field: 'evidenceFile', name: 'notes.txt', type: 'text/plain', content: jpeg },
      );
      const refused = await dsl.request('POST', `/incidents/${id}/evidence`, { payload: body.payload, headers: { 'content-type': body.contentType } });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /Images and videos cannot be uploaded for this incident/);
      const files = await haven.services.handle.db.selectFrom('stored_files').select('id').where('school_id', '=', schoolId).execute();
      const evidence = await haven.services.handle.db
        .selectFrom('incident_evidence')
        .select('id')
        .where('school_id', '=', schoolId)
        .where('incident_id', '=', id)
        .execute();
      assert.equal(evidence.length, 0, 'no evidence row');
      assert.equal(files.length, 0, 'no file row');
      const { readdirSync, existsSync } = await import('node:fs');
      const folder = `${haven.config.dataDir}/files/${schoolId}`;
      assert.ok(!existsSync(folder) || readdirSync(folder).length === 0, 'no file on disk');
    });

    it('keeps other evidence files encrypted, and audits each opening with its reason', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, { typeIds: [typeId('cyberbullying')], 'person-0': pupil.id, 'role-0': 'victim' });
      const page = await dsl.get(`/incidents/${id}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const body = multipart(
        { _csrf: csrf, evidenceDescription: 'Screenshot of the group chat', evidenceUrl: 'https://chat.example/thread/1' },
        { field: 'evidenceFile', name: 'chat.png', type: 'image/jpeg', content: jpeg },
      );
      assert.equal(
        (await dsl.request('POST', `/incidents/${id}/evidence`, { payload: body.payload, headers: { 'content-type': body.contentType } })).statusCode,
        303,
      );
      const stored = await haven.services.handle.db.selectFrom('stored_files').selectAll().where('school_id', '=', schoolId).executeTakeFirstOrThrow();
      const { readFileSync } = await import('node:fs');
      const onDisk = readFileSync(`${haven.config.dataDir}/files/${schoolId}/${stored.id}.enc`);
      assert.equal(onDisk.includes(jpeg.subarray(4, 40)), false, 'the file is encrypted at rest');
      const evidenceId = /evidence\/([^/]+)\/open/.exec((await dsl.get(`/incidents/${id}`)).body)![1]!;
      assert.equal((await dsl.post(`/incidents/${id}/evidence/${evidenceId}/open`, { reason: '' })).statusCode, 400);
      const opened = await dsl.post(`/incidents/${id}/evidence/${evidenceId}/open`, { reason: 'Checking the date of the messages' });
      assert.equal(opened.statusCode, 200);
      assert.equal(opened.headers['content-disposition'], `attachment; filename="chat.png"; filename*=UTF-8''chat.png`);
      const events = await haven.services.audit.list(schoolId, { action: 'incident.evidence_opened' }, 1);
      assert.equal(JSON.parse(events[0]!.details).reason, 'Checking the date of the messages');
    });

    it('shows a person’s chronology, counts earlier incidents, and filters and exports the log', async () => {
      const pupil = await buildPupil(haven.services, schoolId, { className: '6Z' });
      for (let i = 0; i < 2; i += 1) await report(teacher, { typeIds: [typeId('network_misuse')], 'person-0': pupil.id, 'role-0': 'instigator' });
      haven.clock.advance(60_000);
      const { id } = await report(teacher, {
        typeIds: [typeId('network_misuse')],
        'person-0': pupil.id,
        'role-0': 'instigator',
        occurredAt: '2026-11-23T08:45',
      });
      await dsl.post(`/incidents/${id}/triage`, { severity: 'low', severityReason: 'First look', illegal: 'no' });
      const page = await dsl.get(`/incidents/${id}`);
      assert.match(page.body, /Continued infringement:<\/strong> 2 earlier incidents as instigator/);
      assert.match(page.body, /Continued infringements of the above/);
      const chronology = await dsl.get(`/people/${pupil.id}/chronology`);
      assert.equal([...chronology.body.matchAll(/data-qa="role">instigator</g)].length, 3);
      const byClass = await dsl.get('/incidents?class=6Z');
      assert.match(byClass.body, /data-qa="log-total">3 incidents/);
      const csv = await dsl.get('/incidents.csv?class=6Z');
      assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(csv.body.trim().split('\r\n').length, 4);
      const events = await haven.services.audit.list(schoolId, { action: 'chronology.read' }, 1);
      assert.equal(events[0]?.target_id, pupil.id, 'reading a chronology is audited');
    });

    it('emails the DSL and head about an urgent concern with the reference and a link only', async () => {
      const pupil = await buildPupil(haven.services, schoolId, { legalFirstName: 'Secret', legalLastName: 'Name' });
      const { reference, id } = await report(teacher, {
        typeIds: [typeId('online_csae')],
        'person-0': pupil.id,
        'role-0': 'victim',
        flags: 'urgent',
        whatHappened: 'An adult online asked for photos',
      });
      const mails = (await haven.services.mailer.outbox(schoolId)).filter((mail) => mail.subject.includes(reference));
      assert.ok(mails.length >= 2, 'the responders are emailed');
      for (const mail of mails) {
        assert.equal(mail.subject, `Urgent online-safety concern ${reference}`);
        assert.ok(mail.body_text.includes(`/incidents/${id}`));
        assert.doesNotMatch(mail.body_text, /Secret|photos|adult/, 'no detail in email');
      }
    });

    it('records a misuse investigation with a second senior member of staff, and the termly review of the log', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, { typeIds: [typeId('network_misuse')], 'person-0': pupil.id, 'role-0': 'instigator' });
      await dsl.post(`/incidents/${id}/triage`, { severity: 'low', severityReason: 'Low risk', illegal: 'no' });
      assert.equal((await dsl.post(`/incidents/${id}/misuse`, { secondSeniorStaff: '' })).statusCode, 400);
      assert.equal((await dsl.post(`/incidents/${id}/misuse`, { secondSeniorStaff: 'Mr Deputy Head' })).statusCode, 303);
      const page = await dsl.get(`/incidents/${id}`);
      assert.match(page.body, /Second senior member of staff: Mr Deputy Head/);
      assert.match(page.body, /data-qa="step-misuse\.evidence_trail"/);
      const badReview = await head.post('/incidents/reviews', {
        periodFrom: '2026-09-01',
        periodTo: '2026-12-19',
        reviewerName: 'Chair',
        reviewerRole: 'mayor',
        reviewedOn: '2026-12-20',
      });
      assert.equal(badReview.statusCode, 400);
      assert.equal(
        (
          await head.post('/incidents/reviews', {
            periodFrom: '2026-09-01',
            periodTo: '2026-12-19',
            reviewerName: 'Pat Chair',
            reviewerRole: 'chair_of_governors',
            reviewedOn: '2026-12-20',
            comments: 'Reviewed with the head',
          })
        ).statusCode,
        303,
      );
      assert.match((await head.get('/incidents/reviews')).body, /Pat Chair \(chair of governors\)/);
      assert.equal((await esafety.get('/incidents/reviews')).statusCode, 403);
    });

    it('lets the school add, rename and retire types without losing old incidents’ types', async () => {
      assert.equal((await esafety.post('/admin/incident-types', { action: 'add', name: 'Misuse of school social media account' })).statusCode, 303);
      const types = await haven.services.incidents.typesFor(schoolId);
      const added = types.find((type) => type.name === 'Misuse of school social media account')!;
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, { typeIds: [added.id], 'person-0': pupil.id, 'role-0': 'instigator' });
      assert.equal(
        (await esafety.post('/admin/incident-types', { action: 'rename', typeId: added.id, [`name-${added.id}`]: 'Misuse of the school’s social media' }))
          .statusCode,
        303,
      );
      assert.equal((await esafety.post('/admin/incident-types', { action: 'retire', typeId: added.id })).statusCode, 303);
      assert.doesNotMatch((await teacher.get('/concerns/new')).body, /Misuse of the school’s social media/, 'retired types are not offered');
      assert.match((await esafety.get(`/incidents/${id}`)).body, /Misuse of the school’s social media/, 'old incidents keep their type');
      assert.equal((await teacher.post('/admin/incident-types', { action: 'add', name: 'x' })).statusCode, 403);
    });

    it('adds people found later, and turns the incident into an allegation when a member of staff is the instigator', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, { typeIds: [typeId('inappropriate_email')], 'person-0': pupil.id, 'role-0': 'victim' });
      const witness = await buildPupil(haven.services, schoolId, { legalFirstName: 'Late', legalLastName: 'Witness' });
      assert.equal((await esafety.post(`/incidents/${id}/people`, { personId: witness.id, role: 'witness' })).statusCode, 303);
      assert.equal((await esafety.post(`/incidents/${id}/people`, { role: 'witness' })).statusCode, 400, 'someone must be named');
      assert.match((await esafety.get(`/incidents/${id}`)).body, /Late Witness<\/a><\/td><td class="govuk-table__cell" data-qa="role-\d">Witness/);
      const staffPerson = await haven.services.people.create(
        schoolId,
        { kind: 'staff', legalFirstName: 'Kit', legalLastName: 'Staff', jobTitle: 'TA' },
        { schoolId },
      );
      const moved = await esafety.post(`/incidents/${id}/people`, { personId: staffPerson.id, role: 'instigator' });
      assert.equal(moved.location, '/incidents', 'the e-safety lead can no longer see it');
      assert.equal((await esafety.get(`/incidents/${id}`)).statusCode, 404);
      assert.match((await head.get(`/incidents/${id}`)).body, /Allegation: headteacher and DSL only/);
    });

    it('lets the school change its actions and sanctions tables, which the incident page then suggests', async () => {
      const page = await esafety.get('/admin/sanctions');
      assert.match(page.body, /Unauthorised use of non-educational sites during lessons/);
      const ruleId =
        /data-qa="rule-([^"]+)"[\s\S]*?Unauthorised use of non-educational sites/.exec(page.body)?.[1] ?? /name="ruleId" value="([^"]+)"/.exec(page.body)![1]!;
      assert.equal(
        (
          await esafety.post('/admin/sanctions', {
            action: 'save',
            audience: 'pupil',
            offence: 'New rule for chat apps',
            actions: ['class_teacher', 'parents'],
            typeCodes: ['inappropriate_email'],
          })
        ).statusCode,
        303,
      );
      assert.equal(
        (await esafety.post('/admin/sanctions', { action: 'save', audience: 'pupil', offence: 'Bad', actions: ['suspension'], typeCodes: [] })).statusCode,
        400,
        'staff columns are refused in the pupils’ table',
      );
      assert.equal((await esafety.post('/admin/sanctions', { action: 'retire', ruleId })).statusCode, 303);
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, { typeIds: [typeId('inappropriate_email')], 'person-0': pupil.id, 'role-0': 'instigator' });
      assert.match(
        (await esafety.get(`/incidents/${id}`)).body,
        /<strong>New rule for chat apps<\/strong>: Refer to class teacher \/ tutor, Inform parents or carers/,
      );
      assert.equal((await teacher.get('/admin/sanctions')).statusCode, 403);
    });

    it('takes only PDF and plain text as evidence for sexual-imagery types, and will not retype an incident holding pictures', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, { typeIds: [typeId('youth_produced_sexual_imagery')], 'person-0': pupil.id, 'role-0': 'victim' });
      const upload = async (name: string, content: Buffer) => {
        const page = await dsl.get(`/incidents/${id}`);
        const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
        const body = multipart({ _csrf: csrf, evidenceDescription: name }, { field: 'evidenceFile', name, type: 'application/octet-stream', content });
        return (await dsl.request('POST', `/incidents/${id}/evidence`, { payload: body.payload, headers: { 'content-type': body.contentType } })).statusCode;
      };
      const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64, 1)]);
      const unknownBinary = Buffer.concat([Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]), Buffer.alloc(64, 0)]);
      assert.equal(await upload('photos.zip', zip), 400, 'an archive could hold pictures');
      assert.equal(await upload('clip.bin', unknownBinary), 400, 'unknown binary formats are refused');
      assert.equal(await upload('statement.pdf', Buffer.from('%PDF-1.4\n% statement\n')), 303, 'a PDF is taken');
      assert.equal(await upload('notes.txt', Buffer.from('What the pupil said, word for word.')), 303, 'plain text is taken');

      const other = await report(teacher, { typeIds: [typeId('cyberbullying')], 'person-0': pupil.id, 'role-0': 'victim' });
      const page = await dsl.get(`/incidents/${other.id}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const body = multipart(
        { _csrf: csrf, evidenceDescription: 'Screenshot' },
        { field: 'evidenceFile', name: 'shot.jpg', type: 'image/jpeg', content: jpeg },
      );
      assert.equal(
        (await dsl.request('POST', `/incidents/${other.id}/evidence`, { payload: body.payload, headers: { 'content-type': body.contentType } })).statusCode,
        303,
      );
      const retype = await dsl.post(`/incidents/${other.id}/types`, { typeIds: [typeId('youth_produced_sexual_imagery')] });
      assert.equal(retype.statusCode, 409);
      assert.match(retype.body, /holds evidence files that could be pictures/);
    });

    it('keeps the allegation route the headteacher’s, and hides what a reader may not see from the infringement count', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const { id } = await report(teacher, {
        typeIds: [typeId('network_misuse')],
        'person-0': pupil.id,
        'role-0': 'instigator',
        occurredAt: '2026-11-19T09:00',
      });
      assert.equal((await esafety.post(`/incidents/${id}/visibility`, { visibility: 'allegation', visibilityReason: 'x' })).statusCode, 403);
      assert.equal(
        (await esafety.post(`/incidents/${id}/triage`, { severity: 'low', severityReason: 'x', illegal: 'no', visibility: 'allegation' })).statusCode,
        403,
      );
      assert.equal(
        (await head.post(`/incidents/${id}/visibility`, { visibility: 'allegation', visibilityReason: 'Staff conduct in question' })).statusCode,
        303,
      );
      assert.equal((await head.post(`/incidents/${id}/share-with-dsl`, { share: 'yes', shareReason: 'DSL to lead' })).statusCode, 303);
      assert.equal(
        (await dsl.post(`/incidents/${id}/visibility`, { visibility: 'normal', visibilityReason: 'Undo' })).statusCode,
        403,
        'the DSL cannot take it off the allegation route',
      );
      assert.equal((await esafety.get(`/incidents/${id}`)).statusCode, 404);

      const hiddenEarlier = await report(teacher, {
        typeIds: [typeId('network_misuse')],
        'person-0': pupil.id,
        'role-0': 'instigator',
        occurredAt: '2026-11-20T09:00',
      });
      await head.post(`/incidents/${hiddenEarlier.id}/visibility`, { visibility: 'dsl_only', visibilityReason: 'Family context' });
      const later = await report(teacher, { typeIds: [typeId('network_misuse')], 'person-0': pupil.id, 'role-0': 'instigator' });
      assert.match(
        (await esafety.get(`/incidents/${later.id}`)).body,
        /No earlier incidents as instigator/,
        'hidden incidents are not counted for the e-safety lead',
      );
      assert.match(
        (await dsl.get(`/incidents/${later.id}`)).body,
        /2 earlier incidents as instigator/,
        'the DSL counts the DSL-only one and the shared allegation',
      );
    });

    it('starts sexual-exploitation reports as DSL-only, keeps closed incidents’ actions as they were, and downloads any file name', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const csae = await report(teacher, { typeIds: [typeId('online_csae')], 'person-0': pupil.id, 'role-0': 'victim' });
      assert.equal((await esafety.get(`/incidents/${csae.id}`)).statusCode, 404);
      assert.equal((await dsl.get(`/incidents/${csae.id}`)).statusCode, 200);

      const { id } = await report(teacher, { typeIds: [typeId('inappropriate_website')], 'person-0': pupil.id, 'role-0': 'affected' });
      await dsl.post(`/incidents/${id}/triage`, { severity: 'low', severityReason: 'x', illegal: 'no' });
      const page = await dsl.get(`/incidents/${id}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const body = multipart(
        { _csrf: csrf, evidenceDescription: 'Notes' },
        { field: 'evidenceFile', name: 'notes “café”.txt', type: 'text/plain', content: Buffer.from('notes') },
      );
      assert.equal(
        (await dsl.request('POST', `/incidents/${id}/evidence`, { payload: body.payload, headers: { 'content-type': body.contentType } })).statusCode,
        303,
      );
      const evidenceId = /evidence\/([^/]+)\/open/.exec((await dsl.get(`/incidents/${id}`)).body)![1]!;
      const opened = await dsl.post(`/incidents/${id}/evidence/${evidenceId}/open`, { reason: 'Reading the notes' });
      assert.equal(opened.statusCode, 200);
      assert.match(String(opened.headers['content-disposition']), /filename\*=UTF-8''notes%20%E2%80%9Ccaf%C3%A9%E2%80%9D\.txt/);

      await dsl.post(`/incidents/${id}/actions`, { actionKind: 'follow_up', actionDescription: 'Check', actionOwner: 'Dee', actionDue: '2026-12-01' });
      await recordAllOpenSteps(dsl, id);
      await dsl.post(`/incidents/${id}/debrief`);
      await dsl.post(`/incidents/${id}/close`, { lessonsLearnt: 'None' });
      const actionId = (await haven.services.handle.db.selectFrom('incident_actions').select('id').where('incident_id', '=', id).executeTakeFirstOrThrow()).id;
      assert.equal((await dsl.post(`/incidents/${id}/actions-done`, { actionId })).statusCode, 409, 'a closed incident is read-only');
    });

    it('does not list the school roll on the report form for people who may not read it, and audits which incidents a log page showed', async () => {
      const technician = await buildUser(haven.services, schoolId, ['technician']);
      const agent = new TestAgent(haven.app);
      await agent.signIn(technician.email, technician.password);
      await buildPupil(haven.services, schoolId, { legalLastName: 'Hiddenname' });
      const form = await agent.get('/concerns/new');
      assert.equal(form.statusCode, 200);
      assert.doesNotMatch(form.body, /Hiddenname/);
      assert.doesNotMatch(form.body, /id="person-0"/);
      await dsl.get('/incidents?severity=low');
      const [event] = await haven.services.audit.list(schoolId, { action: 'incident_log.read' }, 1);
      const details = JSON.parse(event!.details) as { filter: { severity: string }; incidents: string[] };
      assert.equal(details.filter.severity, 'low');
      assert.ok(details.incidents.every((reference) => /^ES-\d{4}-\d{4}$/.test(reference)));
      const exportsBefore = (await haven.services.audit.list(schoolId, { action: 'incident_log.exported' }, 1)).length;
      await dsl.get('/incidents.csv');
      assert.equal((await haven.services.audit.list(schoolId, { action: 'incident_log.exported' }, 1)).length, exportsBefore + 1);
    });

    it('lets a pupil tell a trusted adult in simple words', async () => {
      const pupilUser = await buildUser(haven.services, schoolId, ['pupil'], { name: 'Pip Pupil' });
      const pupil = new TestAgent(haven.app);
      await pupil.signIn(pupilUser.email, pupilUser.password);
      const form = await pupil.get('/concerns/new');
      assert.match(form.body, /Tell a trusted adult/);
      assert.match(form.body, /You will not be in trouble for telling/);
      const sent = await pupil.post('/concerns', {
        whatHappened: 'Someone in a game asked for my address',
        occurredAt: '2026-11-22T18:00',
        who: 'A player called StarFox',
      });
      assert.equal(sent.statusCode, 200);
      assert.match(sent.body, /Thank you for telling us/);
      assert.match((await dsl.get('/incidents?status=reported')).body, /asked for my address/);
      assert.equal(teacherUserId.length > 0, true);
    });
  });
}
