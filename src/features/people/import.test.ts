import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoMapping, parseFile, planImport } from './import.js';
import { parseDate, parseYearGroup } from './schema.js';

describe('reading MIS exports', () => {
  it('recognises SIMS and Arbor column headings', () => {
    const sims = autoMapping(
      ['Adno', 'Legal Surname', 'Legal Forename', 'Preferred Forename', 'DOB', 'Gender', 'Year', 'Reg', 'SEN Status', 'EAL', 'In Care'],
      'pupil',
    );
    assert.deepEqual(
      [
        sims.misId,
        sims.legalLastName,
        sims.legalFirstName,
        sims.preferredFirstName,
        sims.dateOfBirth,
        sims.yearGroup,
        sims.className,
        sims.send,
        sims.lookedAfter,
      ],
      [0, 1, 2, 3, 4, 6, 7, 8, 10],
    );
    const arbor = autoMapping(['Student ID', 'First Name', 'Last Name', 'Date Of Birth', 'Year Group', 'Registration Form', 'Looked After'], 'pupil');
    assert.deepEqual(
      [arbor.misId, arbor.legalFirstName, arbor.legalLastName, arbor.dateOfBirth, arbor.yearGroup, arbor.className, arbor.lookedAfter],
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(arbor.send, null);
  });

  const years: Array<[string, number | null]> = [
    ['R', 0],
    ['Reception', 0],
    ['N1', -1],
    ['Year 3', 3],
    ['Y6', 6],
    ['13', 13],
    ['', null],
  ];
  for (const [input, expected] of years) {
    it(`reads the year “${input}” as ${String(expected)}`, () => assert.equal(parseYearGroup(input), expected));
  }
  for (const bad of ['Year 14', '0', 'Foo']) it(`refuses the year “${bad}”`, () => assert.ok(Number.isNaN(parseYearGroup(bad))));

  it('reads UK and ISO dates and refuses impossible ones', () => {
    assert.equal(parseDate('27/03/2017'), '2017-03-27');
    assert.equal(parseDate('2017-03-27'), '2017-03-27');
    assert.equal(parseDate('1/9/2020'), '2020-09-01');
    assert.equal(parseDate('31/02/2017'), 'invalid');
    assert.equal(parseDate('2017/03/27'), 'invalid');
  });

  it('reports each bad cell by row number (as a spreadsheet shows it), column heading and reason', () => {
    const csv =
      'Adno,Legal Surname,Legal Forename,Year,DOB\n1,Arden,Ada,3,01/01/2018\n2,,Ben,4,01/01/2017\n3,Colley,Cara,Year 15,01/01/2016\n1,Drake,Dev,2,30/02/2019\n';
    const parsed = parseFile(csv, 'pupil', autoMapping(['Adno', 'Legal Surname', 'Legal Forename', 'Year', 'DOB'], 'pupil'));
    assert.deepEqual(parsed.problems, [
      { row: 3, column: 'Legal Surname', reason: 'is empty' },
      { row: 4, column: 'Year', reason: '“Year 15” is not a year group (use R, N or 1 to 13)' },
      { row: 5, column: 'Adno', reason: '“1” is also on row 2' },
      { row: 5, column: 'DOB', reason: '“30/02/2019” is not a date (use DD/MM/YYYY or YYYY-MM-DD)' },
    ]);
    assert.equal(parsed.rows.length, 1);
    assert.deepEqual([...parsed.misIdsInFile].sort(), ['1', '2', '3']);
  });

  it('plans creates, changes, unchanged rows and leavers, and never lists someone in the file as a leaver', () => {
    const headers = ['Adno', 'Legal Surname', 'Legal Forename', 'Year'];
    const parsed = parseFile('Adno,Legal Surname,Legal Forename,Year\n1,Arden,Ada,3\n2,Birch,Ben,5\n4,,Bad,2\n', 'pupil', autoMapping(headers, 'pupil'));
    const base = {
      preferred_first_name: null,
      preferred_last_name: null,
      date_of_birth: null,
      gender: null,
      class_name: null,
      send: 0,
      eal: 0,
      looked_after: 0,
      job_title: null,
      email: null,
      start_date: null,
      leave_date: null,
      status: 'current',
    };
    const existing = [
      { ...base, id: 'p1', mis_id: '1', legal_first_name: 'Ada', legal_last_name: 'Arden', year_group: 3 },
      { ...base, id: 'p2', mis_id: '2', legal_first_name: 'Ben', legal_last_name: 'Birch', year_group: 4 },
      { ...base, id: 'p3', mis_id: '3', legal_first_name: 'Cy', legal_last_name: 'Colley', year_group: 6 },
      { ...base, id: 'p4', mis_id: '4', legal_first_name: 'Bad', legal_last_name: 'Row', year_group: 2 },
    ];
    const plan = planImport(parsed, existing, { markLeavers: true });
    assert.equal(plan.unchanged, 1);
    assert.deepEqual(
      plan.changes.map((change) => [change.misId, change.fields]),
      [['2', ['year_group']]],
    );
    assert.deepEqual(
      plan.leavers.map((leaver) => leaver.misId),
      ['3'],
    );
    assert.equal(plan.creates.length, 0);
    assert.deepEqual(planImport(parsed, existing, { markLeavers: false }).leavers, []);
  });

  it('refuses a file that is not CSV with a clear message', () => {
    assert.throws(() => parseFile('Adno,Surname\n"1,Arden\n', 'pupil', { misId: 0, legalLastName: 1, legalFirstName: 1 }), /not valid CSV/);
  });
});
