import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool } from '../support/factories.js';
import { simsHeaders, simsPupils, toCsv } from '../support/mis.js';

function multipart(fields: Record<string, string>, file: { name: string; content: string }) {
  const boundary = `----haven${Date.now()}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n${file.content}\r\n`);
  return { payload: Buffer.from(`${parts.join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` };
}

for (const dialect of dialects()) {
  describe(`importing people from an MIS export (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('reports exactly the malformed rows of a 1,000-pupil file and writes nothing; the fixed file imports, again changes nothing, and a missing pupil is marked as left', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const context = { schoolId };
      const pupils = simsPupils(1000);
      const broken = pupils.map((pupil) => [...pupil.cells]);
      broken[99]![5] = '31/02/2016'; // DOB: row 101
      broken[499]![7] = 'Year 9½'; // Year: row 501
      broken[899]![2] = ''; // Legal Surname: row 901
      const first = await haven.services.people.startImport(schoolId, { kind: 'pupil', fileName: 'sims.csv', csv: toCsv(simsHeaders, broken) }, context);
      assert.equal(first.dataRows, 1000);
      assert.deepEqual(first.problems, [
        { row: 101, column: 'DOB', reason: '“31/02/2016” is not a date (use DD/MM/YYYY or YYYY-MM-DD)' },
        { row: 501, column: 'Year', reason: '“Year 9½” is not a year group (use R, N or 1 to 13)' },
        { row: 901, column: 'Legal Surname', reason: 'is empty' },
      ]);
      await assert.rejects(haven.services.people.applyImport(schoolId, first.importId, { validOnly: false }, context), /The file has 3 problems/);
      assert.equal((await haven.services.people.list(schoolId, { kind: 'pupil' })).total, 0, 'nothing was written');

      const fixed = await haven.services.people.startImport(
        schoolId,
        {
          kind: 'pupil',
          fileName: 'sims.csv',
          csv: toCsv(
            simsHeaders,
            pupils.map((pupil) => pupil.cells),
          ),
        },
        context,
      );
      assert.deepEqual(fixed.problems, []);
      assert.equal(fixed.plan!.creates.length, 1000);
      const outcome = await haven.services.people.applyImport(schoolId, fixed.importId, { validOnly: false }, context);
      assert.deepEqual(outcome, { created: 1000, changed: 0, unchanged: 0, markedLeft: 0, skippedRows: 0 });
      assert.equal((await haven.services.people.list(schoolId, { kind: 'pupil', status: 'current' })).total, 1000);
      const groups = await haven.services.people.listGroups(schoolId);
      assert.equal(groups.find((group) => group.kind === 'year_group' && group.code === '0')?.members, 143, 'Reception: every 7th pupil');
      assert.equal(groups.find((group) => group.code === 'KS2')?.members, 571);

      const again = await haven.services.people.startImport(
        schoolId,
        {
          kind: 'pupil',
          fileName: 'sims.csv',
          csv: toCsv(
            simsHeaders,
            pupils.map((pupil) => pupil.cells),
          ),
        },
        context,
      );
      assert.deepEqual([again.plan!.creates.length, again.plan!.changes.length, again.plan!.unchanged, again.plan!.leavers.length], [0, 0, 1000, 0]);
      assert.deepEqual(await haven.services.people.applyImport(schoolId, again.importId, { validOnly: false }, context), {
        created: 0,
        changed: 0,
        unchanged: 1000,
        markedLeft: 0,
        skippedRows: 0,
      });

      const withoutOne = pupils.filter((pupil) => pupil.adno !== '100042').map((pupil) => pupil.cells);
      withoutOne[10]![8] = '3X'; // one pupil changes class
      const next = await haven.services.people.startImport(schoolId, { kind: 'pupil', fileName: 'sims.csv', csv: toCsv(simsHeaders, withoutOne) }, context);
      assert.deepEqual(
        next.plan!.leavers.map((leaver) => leaver.misId),
        ['100042'],
      );
      assert.deepEqual(
        next.plan!.changes.map((change) => change.fields),
        [['class_name']],
      );
      await haven.services.people.applyImport(schoolId, next.importId, { validOnly: false }, context);
      const leaver = (await haven.services.people.list(schoolId, { kind: 'pupil', search: '100042', status: undefined })).people[0]!;
      assert.equal(leaver.status, 'left');
      assert.equal(leaver.leaveDate, '2026-11-23');
      assert.deepEqual(await haven.services.people.groupsOf(schoolId, leaver.id), [], 'leavers leave their groups');
    });

    it('imports only the valid rows when asked, without marking the people on bad rows as left', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const context = { schoolId };
      const pupils = simsPupils(20);
      await haven.services.people.applyImport(
        schoolId,
        (
          await haven.services.people.startImport(
            schoolId,
            {
              kind: 'pupil',
              fileName: 'a.csv',
              csv: toCsv(
                simsHeaders,
                pupils.map((p) => p.cells),
              ),
            },
            context,
          )
        ).importId,
        { validOnly: false },
        context,
      );
      const rows = pupils.map((pupil) => [...pupil.cells]);
      rows[3]![7] = 'Q';
      const preview = await haven.services.people.startImport(schoolId, { kind: 'pupil', fileName: 'b.csv', csv: toCsv(simsHeaders, rows) }, context);
      const outcome = await haven.services.people.applyImport(schoolId, preview.importId, { validOnly: true }, context);
      assert.deepEqual(outcome, { created: 0, changed: 0, unchanged: 19, markedLeft: 0, skippedRows: 1 });
    });

    it('takes the file through upload, column mapping, dry run and import in the browser pages', async () => {
      const { head } = await buildSchool(haven.services);
      const agent = new TestAgent(haven.app);
      await agent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      haven.clock.advance(30_000);
      await agent.get('/people/import');
      const csrf = /name="_csrf" value="([^"]+)"/.exec((await agent.get('/people/import')).body)![1]!;
      // Arbor-style headings with an unusual surname column the user maps by hand.
      const csv = 'Student ID,First Name,Family Surname,Year Group,Registration Form\nA1,Ada,Arden,3,3K\nA2,Ben,Birch,R,RM\nA3,Cara,,4,4K\n';
      const body = multipart({ _csrf: csrf, kind: 'pupil' }, { name: 'arbor.csv', content: csv });
      const uploaded = await agent.request('POST', '/people/import', { payload: body.payload, headers: { 'content-type': body.contentType } });
      assert.equal(uploaded.statusCode, 303);
      const previewPath = uploaded.location!;
      const unmapped = await agent.get(previewPath);
      assert.match(unmapped.body, /No column is chosen for “Legal last name”/);
      await agent.post(`${previewPath}/mapping`, {
        'column-misId': '0',
        'column-legalFirstName': '1',
        'column-legalLastName': '2',
        'column-yearGroup': '3',
        'column-className': '4',
        markLeavers: 'yes',
      });
      const preview = await agent.get(previewPath);
      assert.match(preview.body, /data-qa="creates">2</);
      assert.match(
        preview.body,
        /<td class="govuk-table__cell">4<\/td><td class="govuk-table__cell">Family Surname<\/td><td class="govuk-table__cell">is empty<\/td>/,
      );
      const refused = await agent.post(`${previewPath}/apply`, {});
      assert.equal(refused.statusCode, 400);
      assert.match(refused.body, /The file has 1 problem/);
      const done = await agent.post(`${previewPath}/apply`, { validOnly: 'yes' });
      assert.equal(done.statusCode, 200);
      assert.match(done.body, /2 added/);
      assert.match(done.body, /1 rows skipped/);
      const list = await agent.get('/people?kind=pupil');
      assert.match(list.body, /Arden, Ada/);
      assert.equal((await agent.post(`${previewPath}/apply`, { validOnly: 'yes' })).statusCode, 409, 'an import applies once');
    });
  });
}
