import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applicableSteps, transition, type IncidentFacts, type IncidentStatus, type StepRecord, type StepTrack, type Transition } from './procedure.js';

/** An incident's facts: on the internal track with nobody recorded, unless told otherwise. */
function buildFacts(overrides: Partial<IncidentFacts> = {}): IncidentFacts {
  return {
    status: 'internal_track',
    illegal: 'no',
    typeProcedures: [],
    people: [],
    misuseInvestigation: false,
    enteredIllegal: false,
    enteredInternal: true,
    ...overrides,
  };
}

const onIllegalTrack = (overrides: Partial<IncidentFacts> = {}) =>
  buildFacts({ status: 'illegal_track', illegal: 'yes', enteredIllegal: true, enteredInternal: false, ...overrides });

const stepKeys = (facts: IncidentFacts) => applicableSteps(facts).map((step) => step.key);

/** A record for every step that applies, all with the same outcome. */
const recordEvery = (facts: IncidentFacts, outcome: 'done' | 'not_applicable' = 'done'): StepRecord[] =>
  applicableSteps(facts).map((step) => ({ step: step.key, outcome }));

type Expected = { ok: true; status: IncidentStatus } | { ok: false; reason: RegExp };

function assertResult(facts: IncidentFacts, records: readonly StepRecord[], move: Transition, expected: Expected): void {
  const result = transition(facts, records, move);
  if (expected.ok) assert.deepEqual(result, expected);
  else {
    assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
    if (!result.ok) assert.match(result.reason, expected.reason);
  }
}

describe('triaging a reported incident', () => {
  const reported = buildFacts({ status: 'reported', illegal: null, enteredInternal: false });
  const askPolice = /take police advice on 101 and record it/;
  const cases: Array<[string, Transition, Expected]> = [
    ['sends “illegal: yes” to the illegal track', { kind: 'triage', illegal: 'yes' }, { ok: true, status: 'illegal_track' }],
    ['sends “illegal: no” to the internal track', { kind: 'triage', illegal: 'no' }, { ok: true, status: 'internal_track' }],
    ['refuses “unsure” without police advice', { kind: 'triage', illegal: 'unsure' }, { ok: false, reason: askPolice }],
    ['refuses “unsure” with the police advice left null', { kind: 'triage', illegal: 'unsure', policeAdvice: null }, { ok: false, reason: askPolice }],
    ['refuses “unsure” with only spaces for police advice', { kind: 'triage', illegal: 'unsure', policeAdvice: '   ' }, { ok: false, reason: askPolice }],
    [
      'sends “unsure” to the illegal track when the police advise treating it as illegal',
      { kind: 'triage', illegal: 'unsure', policeAdvice: '101 ref 4471: treat as illegal, preserve the phone', treatAsIllegal: true },
      { ok: true, status: 'illegal_track' },
    ],
    [
      'sends “unsure” to the internal track when the police advise it is not illegal',
      { kind: 'triage', illegal: 'unsure', policeAdvice: '101 ref 4472: not a police matter', treatAsIllegal: false },
      { ok: true, status: 'internal_track' },
    ],
  ];
  for (const [behaviour, move, expected] of cases) it(behaviour, () => assertResult(reported, [], move, expected));

  const alreadyTriaged: IncidentStatus[] = ['illegal_track', 'internal_track', 'debrief', 'closed'];
  for (const status of alreadyTriaged) {
    it(`refuses to triage again once the incident is ${status}`, () =>
      assertResult(buildFacts({ status }), [], { kind: 'triage', illegal: 'yes' }, { ok: false, reason: /already been triaged/ }));
  }
});

describe('which steps apply', () => {
  const illegalCore = [
    'illegal.not_viewed',
    'illegal.evidence_secured',
    'illegal.device_isolated',
    'illegal.account_disabled',
    'illegal.police',
    'illegal.ceop_iwf',
    'illegal.police_advice',
  ];
  const ypsi = ['ypsi.not_viewed', 'ypsi.not_copied', 'ypsi.device_secured', 'ypsi.referral_decision', 'ypsi.deletion_confirmed'];
  const misuse = ['misuse.urls_recorded', 'misuse.evidence_trail'];

  const exactly: Array<[string, IncidentFacts, string[]]> = [
    [
      'nothing while the incident is still reported, whatever the facts',
      buildFacts({
        status: 'reported',
        enteredInternal: false,
        typeProcedures: ['youth_produced_sexual_imagery'],
        misuseInvestigation: true,
        people: [{ kind: 'pupil', role: 'victim' }],
      }),
      [],
    ],
    ['the core illegal-track steps, in order, when nobody is recorded', onIllegalTrack(), illegalCore],
    ['only “evidence kept” on the internal track when nobody is recorded', buildFacts(), ['internal.evidence_kept']],
    [
      'the victim steps and “others identified” for a pupil victim on the internal track',
      buildFacts({ people: [{ kind: 'pupil', role: 'victim' }] }),
      ['internal.evidence_kept', 'internal.victim_support', 'internal.victim_parents', 'internal.others_identified'],
    ],
    [
      'the instigator steps for a pupil instigator on the internal track',
      buildFacts({ people: [{ kind: 'pupil', role: 'instigator' }] }),
      ['internal.evidence_kept', 'internal.instigator_sanctions', 'internal.instigator_parents', 'internal.instigator_at_risk', 'internal.others_identified'],
    ],
    [
      'the youth-produced imagery steps for that procedure',
      buildFacts({ typeProcedures: ['youth_produced_sexual_imagery'] }),
      ['internal.evidence_kept', ...ypsi],
    ],
    ['the misuse steps for a misuse investigation', buildFacts({ misuseInvestigation: true }), ['internal.evidence_kept', ...misuse]],
  ];
  for (const [behaviour, facts, expected] of exactly) it(`brings ${behaviour}`, () => assert.deepEqual(stepKeys(facts), expected));

  const staffInstigator = [{ kind: 'staff', role: 'instigator' }] as const;
  const containing: Array<[string, IncidentFacts, { includes: string[]; excludes: string[] }]> = [
    [
      'a staff instigator brings the allegation route and the LADO on the illegal track',
      onIllegalTrack({ people: staffInstigator }),
      { includes: ['illegal.allegation_head', 'illegal.lado'], excludes: ['internal.disciplinary'] },
    ],
    [
      'a staff instigator brings the disciplinary route on the internal track',
      buildFacts({ people: staffInstigator }),
      { includes: ['internal.disciplinary'], excludes: ['illegal.allegation_head', 'illegal.lado'] },
    ],
    [
      'a member of staff who only witnessed brings no allegation or disciplinary steps',
      onIllegalTrack({ enteredInternal: true, people: [{ kind: 'staff', role: 'witness' }] }),
      { includes: illegalCore, excludes: ['illegal.allegation_head', 'illegal.lado', 'internal.disciplinary'] },
    ],
    [
      'a member of staff who was harmed brings no allegation or disciplinary steps',
      onIllegalTrack({ enteredInternal: true, people: [{ kind: 'staff', role: 'victim' }] }),
      { includes: illegalCore, excludes: ['illegal.allegation_head', 'illegal.lado', 'internal.disciplinary'] },
    ],
    [
      'a pupil on the illegal track brings “the DSL is informed”',
      onIllegalTrack({ people: [{ kind: 'pupil', role: 'witness' }] }),
      { includes: ['illegal.dsl_informed'], excludes: ['internal.others_identified'] },
    ],
    [
      'an outside person as the victim brings none of the pupil-victim steps',
      buildFacts({ people: [{ kind: 'other', role: 'victim' }] }),
      { includes: ['internal.evidence_kept'], excludes: ['internal.victim_support', 'internal.victim_parents', 'internal.others_identified'] },
    ],
    [
      'youth-produced imagery brings its steps on the illegal track too',
      onIllegalTrack({ typeProcedures: ['youth_produced_sexual_imagery'] }),
      { includes: [...illegalCore, ...ypsi], excludes: ['internal.evidence_kept'] },
    ],
    [
      'another procedure brings its own step and not the youth-produced imagery ones',
      buildFacts({ typeProcedures: ['cyberbullying'] }),
      { includes: ['cyberbullying.content_removed'], excludes: ypsi },
    ],
    ['no misuse investigation brings no misuse steps', buildFacts({ misuseInvestigation: false }), { includes: ['internal.evidence_kept'], excludes: misuse }],
  ];
  for (const [behaviour, facts, { includes, excludes }] of containing) {
    it(behaviour, () => {
      const keys = stepKeys(facts);
      for (const key of includes) assert.ok(keys.includes(key), `${key} should apply; got ${keys.join(', ')}`);
      for (const key of excludes) assert.ok(!keys.includes(key), `${key} should not apply; got ${keys.join(', ')}`);
    });
  }

  // Every case has a youth-produced imagery type and a misuse investigation, so those tracks always show.
  const tracks: Array<[string, Partial<IncidentFacts>, StepTrack[]]> = [
    [
      'illegal steps only after entering the illegal track',
      { status: 'illegal_track', enteredIllegal: true, enteredInternal: false },
      ['illegal', 'type', 'misuse'],
    ],
    [
      'internal steps only after entering the internal track',
      { status: 'internal_track', enteredIllegal: false, enteredInternal: true },
      ['internal', 'type', 'misuse'],
    ],
    [
      'both tracks’ steps once an illegal incident was not confirmed and moved to the internal track',
      { status: 'internal_track', enteredIllegal: true, enteredInternal: true },
      ['illegal', 'internal', 'type', 'misuse'],
    ],
    ['the entered track’s steps still at debrief', { status: 'debrief', enteredIllegal: true, enteredInternal: false }, ['illegal', 'type', 'misuse']],
    ['the entered tracks’ steps still once closed', { status: 'closed', enteredIllegal: false, enteredInternal: true }, ['internal', 'type', 'misuse']],
  ];
  for (const [behaviour, overrides, expected] of tracks) {
    it(`shows ${behaviour}`, () => {
      const facts = buildFacts({
        typeProcedures: ['youth_produced_sexual_imagery'],
        misuseInvestigation: true,
        people: [
          { kind: 'pupil', role: 'victim' },
          { kind: 'staff', role: 'instigator' },
        ],
        ...overrides,
      });
      assert.deepEqual([...new Set(applicableSteps(facts).map((step) => step.track))], expected);
    });
  }
});

describe('starting the debrief', () => {
  const illegal = onIllegalTrack();
  const pupilVictim = buildFacts({ people: [{ kind: 'pupil', role: 'victim' }] });
  const allButPolice = recordEvery(illegal).filter((record) => record.step !== 'illegal.police');

  const cases: Array<[string, IncidentFacts, StepRecord[], Expected]> = [
    ['refuses with every illegal-track step open, saying how many', illegal, [], { ok: false, reason: /^7 required steps are still open: / }],
    [
      'refuses with one step recorded, counting the rest',
      illegal,
      [{ step: 'illegal.not_viewed', outcome: 'done' }],
      { ok: false, reason: /^6 required steps are still open: / },
    ],
    ['refuses with one step open, naming it', illegal, allButPolice, { ok: false, reason: /^1 required step is still open: Reported to the police/ }],
    [
      'does not count a record for a step that does not apply',
      pupilVictim,
      [
        { step: 'internal.evidence_kept', outcome: 'done' },
        { step: 'internal.instigator_sanctions', outcome: 'done' },
      ],
      { ok: false, reason: /^3 required steps are still open: / },
    ],
    ['allows it once every step is recorded done', illegal, recordEvery(illegal, 'done'), { ok: true, status: 'debrief' }],
    ['allows it once every step is recorded not applicable', pupilVictim, recordEvery(pupilVictim, 'not_applicable'), { ok: true, status: 'debrief' }],
    [
      'allows it with a mix of done and not applicable',
      pupilVictim,
      recordEvery(pupilVictim).map((record, index) => ({ ...record, outcome: index % 2 === 0 ? 'done' : 'not_applicable' })),
      { ok: true, status: 'debrief' },
    ],
    ['refuses before triage', buildFacts({ status: 'reported', enteredInternal: false }), [], { ok: false, reason: /must be on a track/ }],
    ['refuses when already at debrief', buildFacts({ status: 'debrief' }), recordEvery(buildFacts()), { ok: false, reason: /must be on a track/ }],
  ];
  for (const [behaviour, facts, records, expected] of cases) it(behaviour, () => assertResult(facts, records, { kind: 'start_debrief' }, expected));
});

describe('moving an incident not confirmed as illegal to the internal track', () => {
  const cases: Array<[string, IncidentStatus, string, Expected]> = [
    [
      'moves it from the illegal track with a reason',
      'illegal_track',
      'Police (101 ref 5521) advised it is not illegal',
      { ok: true, status: 'internal_track' },
    ],
    ['refuses without a reason', 'illegal_track', '  ', { ok: false, reason: /Say why it was not confirmed as illegal/ }],
    ['refuses from the internal track', 'internal_track', 'Police advice', { ok: false, reason: /Only an incident on the illegal track/ }],
    ['refuses before triage', 'reported', 'Police advice', { ok: false, reason: /Only an incident on the illegal track/ }],
    ['refuses at debrief', 'debrief', 'Police advice', { ok: false, reason: /Only an incident on the illegal track/ }],
    ['refuses once closed', 'closed', 'Police advice', { ok: false, reason: /Only an incident on the illegal track/ }],
  ];
  for (const [behaviour, status, reason, expected] of cases) {
    it(behaviour, () => assertResult(onIllegalTrack({ status }), [], { kind: 'not_confirmed_illegal', reason }, expected));
  }
});

describe('closing an incident', () => {
  const atDebrief = buildFacts({ status: 'debrief', people: [{ kind: 'pupil', role: 'instigator' }] });
  const lessons = 'Filtering gap on the guest Wi-Fi: change request raised';
  const cases: Array<[string, IncidentFacts, StepRecord[], string, Expected]> = [
    ['closes from the debrief with every step recorded and lessons learnt', atDebrief, recordEvery(atDebrief), lessons, { ok: true, status: 'closed' }],
    ['refuses without lessons learnt', atDebrief, recordEvery(atDebrief), ' \n ', { ok: false, reason: /Record the lessons learnt/ }],
    [
      'refuses while required steps are open',
      atDebrief,
      recordEvery(atDebrief).slice(1),
      lessons,
      { ok: false, reason: /^1 required step is still open: Incident recorded and evidence kept/ },
    ],
    [
      'refuses while illegal-track steps are open, even after moving to the internal track',
      buildFacts({ status: 'debrief', enteredIllegal: true, enteredInternal: true }),
      [{ step: 'internal.evidence_kept', outcome: 'done' }],
      lessons,
      { ok: false, reason: /^7 required steps are still open: / },
    ],
    ...(['reported', 'illegal_track', 'internal_track', 'closed'] as const).map((status): [string, IncidentFacts, StepRecord[], string, Expected] => [
      `refuses from ${status}`,
      buildFacts({ status }),
      recordEvery(buildFacts()),
      lessons,
      { ok: false, reason: /Close the incident from its debrief/ },
    ]),
  ];
  for (const [behaviour, facts, records, lessonsLearnt, expected] of cases) {
    it(behaviour, () => assertResult(facts, records, { kind: 'close', lessonsLearnt }, expected));
  }
});

describe('reopening an incident', () => {
  const cases: Array<[string, IncidentStatus, string, Expected]> = [
    ['returns a closed incident to its debrief, given a reason', 'closed', 'The parent has sent new messages', { ok: true, status: 'debrief' }],
    ['refuses without a reason', 'closed', '', { ok: false, reason: /Give the reason for reopening/ }],
    ['refuses with only spaces for a reason', 'closed', '   ', { ok: false, reason: /Give the reason for reopening/ }],
    ['refuses an incident at debrief', 'debrief', 'New messages', { ok: false, reason: /Only a closed incident can be reopened/ }],
    ['refuses an incident on the internal track', 'internal_track', 'New messages', { ok: false, reason: /Only a closed incident can be reopened/ }],
    ['refuses a reported incident', 'reported', 'New messages', { ok: false, reason: /Only a closed incident can be reopened/ }],
  ];
  for (const [behaviour, status, reason, expected] of cases) {
    it(behaviour, () => {
      const facts = buildFacts({ status });
      assertResult(facts, recordEvery(buildFacts()), { kind: 'reopen', reason }, expected);
    });
  }
});
