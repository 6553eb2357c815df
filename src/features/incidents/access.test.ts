import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Actor, Permission } from '../../platform/permissions.js';
import type { Role } from '../../platform/roles.js';
import { canOnIncident, canSeeStatus, visibilitiesFor, type IncidentAction } from './access.js';
import type { Visibility } from './procedure.js';

const actions: readonly IncidentAction[] = ['list', 'read', 'update', 'close'];
const visibilities: readonly Visibility[] = ['normal', 'dsl_only', 'allegation'];

const userWith = (roles: readonly Role[], userId = 'user-1'): Actor => ({ kind: 'user', schoolId: 'school-1', userId, displayName: 'Sam Carter', roles });
const tokenWith = (scopes: readonly Permission[]): Actor => ({ kind: 'token', schoolId: 'school-1', tokenId: 'token-1', displayName: 'MIS link', scopes });

/** Allowed actions, in the order list, read, update, close. */
type Cells = readonly [list: boolean, read: boolean, update: boolean, close: boolean];
const ALL: Cells = [true, true, true, true];
const NONE: Cells = [false, false, false, false];
const READ_ONLY: Cells = [true, true, false, false];

// DESIGN.md "Need to know" and issue 3: allegations against staff are for the headteacher, and for the
// DSL once the head shares them ("DSL and deputies: all but allegations unless granted"); DSL-only
// incidents for DSL, deputies and head; the e-safety lead handles the ordinary online-safety incidents.

const table: ReadonlyArray<[Role, Record<Visibility, Cells>]> = [
  ['pupil', { normal: NONE, dsl_only: NONE, allegation: NONE }],
  ['parent', { normal: NONE, dsl_only: NONE, allegation: NONE }],
  ['staff', { normal: NONE, dsl_only: NONE, allegation: NONE }],
  ['technician', { normal: NONE, dsl_only: NONE, allegation: NONE }],
  ['esafety_lead', { normal: ALL, dsl_only: NONE, allegation: NONE }],
  ['dsl', { normal: ALL, dsl_only: ALL, allegation: NONE }],
  ['deputy_dsl', { normal: ALL, dsl_only: ALL, allegation: NONE }],
  ['headteacher', { normal: ALL, dsl_only: ALL, allegation: ALL }],
  ['governor', { normal: NONE, dsl_only: NONE, allegation: NONE }],
  ['visitor', { normal: NONE, dsl_only: NONE, allegation: NONE }],
  ['trust_admin', { normal: NONE, dsl_only: NONE, allegation: NONE }],
];

const allowed = (cells: Cells) => actions.filter((_, index) => cells[index]);
const describeCells = (cells: Cells, visibility: Visibility) =>
  allowed(cells).length === 0 ? `nothing with ${visibility} incidents` : `${allowed(cells).join(', ')} ${visibility} incidents`;

describe('who may act on an incident (need to know)', () => {
  for (const [role, expected] of table) {
    for (const visibility of visibilities) {
      const cells = expected[visibility];
      it(`${role} may ${allowed(cells).length === 0 ? 'do ' : ''}${describeCells(cells, visibility)}`, () => {
        const actor = userWith([role]);
        const actual = actions.map((action) => canOnIncident(actor, { visibility }, action));
        assert.deepEqual(actual, [...cells]);
      });
    }
    const seen = visibilities.filter((visibility) => expected[visibility].some(Boolean));
    it(`${role} sees ${seen.length === 0 ? 'no' : seen.join(', ')} incidents in the log`, () => {
      assert.deepEqual([...visibilitiesFor(userWith([role]))].sort(), [...seen].sort());
    });
  }

  it('lets the DSL, and not the deputies or the e-safety lead, act on an allegation the headteacher shared', () => {
    const shared = { visibility: 'allegation' as const, dslGranted: true };
    assert.deepEqual(
      actions.map((action) => canOnIncident(userWith(['dsl']), shared, action)),
      [true, true, true, true],
    );
    assert.deepEqual(
      actions.map((action) => canOnIncident(userWith(['deputy_dsl']), shared, action)),
      [false, false, false, false],
    );
    assert.deepEqual(
      actions.map((action) => canOnIncident(userWith(['esafety_lead']), shared, action)),
      [false, false, false, false],
    );
  });

  it('gives a member of staff who is also a deputy DSL what the deputy DSL role gives', () => {
    const actor = userWith(['staff', 'deputy_dsl']);
    assert.deepEqual(
      visibilities.map((visibility) => canOnIncident(actor, { visibility }, 'update')),
      [true, true, false],
    );
  });
});

describe('API tokens and incidents', () => {
  const cases: Array<[string, readonly Permission[], Record<Visibility, Cells>]> = [
    ['with incidents.read may list and read ordinary incidents only', ['incidents.read'], { normal: READ_ONLY, dsl_only: NONE, allegation: NONE }],
    [
      'with incidents.read among other scopes still may only list and read ordinary incidents',
      ['people.read', 'incidents.read', 'incident.report'],
      { normal: READ_ONLY, dsl_only: NONE, allegation: NONE },
    ],
    ['without incidents.read gets nothing', ['people.read', 'groups.read', 'incident.report'], { normal: NONE, dsl_only: NONE, allegation: NONE }],
    ['with no scopes gets nothing', [], { normal: NONE, dsl_only: NONE, allegation: NONE }],
  ];
  for (const [behaviour, scopes, expected] of cases) {
    it(`a token ${behaviour}`, () => {
      const token = tokenWith(scopes);
      for (const visibility of visibilities) {
        const actual = actions.map((action) => canOnIncident(token, { visibility }, action));
        assert.deepEqual(actual, [...expected[visibility]], `${visibility} incident`);
      }
      assert.deepEqual(
        visibilitiesFor(token),
        visibilities.filter((visibility) => expected[visibility].some(Boolean)),
      );
    });
  }
});

describe('who may see an incident’s status', () => {
  const cases: Array<[string, Actor, { reportedBy: string | null; visibility: Visibility }, boolean]> = [
    [
      'a member of staff sees the status of the allegation they reported',
      userWith(['staff'], 'staff-1'),
      { reportedBy: 'staff-1', visibility: 'allegation' },
      true,
    ],
    [
      'a member of staff sees the status of the DSL-only concern they reported',
      userWith(['staff'], 'staff-1'),
      { reportedBy: 'staff-1', visibility: 'dsl_only' },
      true,
    ],
    ['a pupil sees the status of the worry they reported', userWith(['pupil'], 'pupil-1'), { reportedBy: 'pupil-1', visibility: 'normal' }, true],
    [
      'a member of staff does not see the status of another staff member’s report',
      userWith(['staff'], 'staff-1'),
      { reportedBy: 'staff-2', visibility: 'normal' },
      false,
    ],
    [
      'a member of staff does not see the status of a report with no reporter account',
      userWith(['staff'], 'staff-1'),
      { reportedBy: null, visibility: 'normal' },
      false,
    ],
    [
      'an e-safety lead does not see the status of someone else’s DSL-only concern',
      userWith(['esafety_lead'], 'lead-1'),
      { reportedBy: 'staff-2', visibility: 'dsl_only' },
      false,
    ],
    ['a DSL sees the status of someone else’s DSL-only concern', userWith(['dsl'], 'dsl-1'), { reportedBy: 'staff-2', visibility: 'dsl_only' }, true],
    ['a token with incidents.read sees the status of an ordinary incident', tokenWith(['incidents.read']), { reportedBy: null, visibility: 'normal' }, true],
    [
      'a token with incidents.read does not see the status of a DSL-only concern',
      tokenWith(['incidents.read']),
      { reportedBy: null, visibility: 'dsl_only' },
      false,
    ],
  ];
  for (const [behaviour, actor, incident, expected] of cases) it(behaviour, () => assert.equal(canSeeStatus(actor, incident), expected));

  it('shows the reporter the status without letting them read the record', () => {
    const reporter = userWith(['staff'], 'staff-1');
    const incident = { reportedBy: 'staff-1', visibility: 'allegation' as const };
    assert.equal(canSeeStatus(reporter, incident), true);
    assert.equal(canOnIncident(reporter, incident, 'read'), false);
  });
});
