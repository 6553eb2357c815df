/**
 * The response procedure as an explicit state machine (DESIGN.md "The response procedure"), from
 * the flowcharts of policies 000 and 001 and the procedures of policy 004 §10–11. Pure: no I/O.
 */

export const statuses = ['reported', 'illegal_track', 'internal_track', 'debrief', 'closed'] as const;
export type IncidentStatus = (typeof statuses)[number];

export const statusLabels: Record<IncidentStatus, string> = {
  reported: 'Reported — awaiting triage',
  illegal_track: 'Illegal track',
  internal_track: 'Internal track',
  debrief: 'Debrief',
  closed: 'Closed',
};

export const severities = ['low', 'medium', 'high'] as const;
export type Severity = (typeof severities)[number];

export const illegalAnswers = ['yes', 'no', 'unsure'] as const;
export type IllegalAnswer = (typeof illegalAnswers)[number];

export const personRoles = ['victim', 'instigator', 'witness', 'affected', 'other'] as const;
export type PersonRole = (typeof personRoles)[number];

export const riskAreas = ['content', 'contact', 'conduct', 'commerce'] as const;
export type RiskArea = (typeof riskAreas)[number];

/** Who can see an incident beyond those who respond to online-safety incidents (DESIGN.md "Need to know"). */
export const visibilities = ['normal', 'dsl_only', 'allegation'] as const;
export type Visibility = (typeof visibilities)[number];

/** The facts that decide which steps apply. */
export interface IncidentFacts {
  status: IncidentStatus;
  illegal: IllegalAnswer | null;
  typeProcedures: readonly string[];
  people: ReadonlyArray<{ kind: 'pupil' | 'staff' | 'other'; role: PersonRole }>;
  misuseInvestigation: boolean;
  /** Tracks the incident has been on: their steps stay part of the record once entered. */
  enteredIllegal: boolean;
  enteredInternal: boolean;
}

export type StepTrack = 'illegal' | 'internal' | 'type' | 'misuse';

export interface StepDefinition {
  key: string;
  track: StepTrack;
  label: string;
  /** What the note should say when the step is recorded as done. */
  hint?: string;
  applies(facts: IncidentFacts): boolean;
}

const pupilAs = (facts: IncidentFacts, role: PersonRole) => facts.people.some((person) => person.kind === 'pupil' && person.role === role);
const pupilInvolved = (facts: IncidentFacts) => facts.people.some((person) => person.kind === 'pupil');
// The allegation and disciplinary routes are for a member of staff whose conduct is in question, not a
// member of staff who was harmed or saw it.
const staffInvolved = (facts: IncidentFacts) => facts.people.some((person) => person.kind === 'staff' && person.role === 'instigator');
const always = () => true;
const hasProcedure = (procedure: string) => (facts: IncidentFacts) => facts.typeProcedures.includes(procedure);

export const steps: readonly StepDefinition[] = [
  // Illegal track (policy 001 flowchart, policy 000 incident flowchart, policy 004 §10).
  { key: 'illegal.not_viewed', track: 'illegal', label: 'The material has not been viewed further, copied, printed or forwarded', applies: always },
  { key: 'illegal.evidence_secured', track: 'illegal', label: 'Evidence secured and preserved', hint: 'What was secured, and how', applies: always },
  { key: 'illegal.device_isolated', track: 'illegal', label: 'Device isolated or confiscated', hint: 'Where the device is held, and by whom', applies: always },
  { key: 'illegal.account_disabled', track: 'illegal', label: 'Network account disabled (if on the school network)', applies: always },
  {
    key: 'illegal.police',
    track: 'illegal',
    label: 'Reported to the police (999 if there is immediate risk, otherwise 101)',
    hint: 'The force reference number',
    applies: always,
  },
  { key: 'illegal.ceop_iwf', track: 'illegal', label: 'Reported to CEOP and/or the IWF as relevant', hint: 'Report URL or reference', applies: always },
  { key: 'illegal.dsl_informed', track: 'illegal', label: 'A pupil is involved: the DSL is informed', applies: pupilInvolved },
  {
    key: 'illegal.allegation_head',
    track: 'illegal',
    label: 'A member of staff’s conduct is in question: the headteacher is informed (allegation route)',
    applies: staffInvolved,
  },
  {
    key: 'illegal.lado',
    track: 'illegal',
    label: 'A member of staff’s conduct is in question: referred to the LADO',
    hint: 'Date and LADO reference',
    applies: staffInvolved,
  },
  { key: 'illegal.police_advice', track: 'illegal', label: 'Police advice followed', hint: 'What the police advised', applies: always },

  // Internal track (policy 001 non-illegal flowchart: victim or instigator).
  { key: 'internal.evidence_kept', track: 'internal', label: 'Incident recorded and evidence kept', applies: always },
  {
    key: 'internal.disciplinary',
    track: 'internal',
    label: 'A member of staff’s conduct is in question: passed to the headteacher for the disciplinary route',
    applies: staffInvolved,
  },
  {
    key: 'internal.victim_support',
    track: 'internal',
    label: 'Support arranged for the pupil(s) harmed (class teacher, e-safety lead, senior leader, headteacher or DSL)',
    hint: 'Who gives the support',
    applies: (facts) => pupilAs(facts, 'victim'),
  },
  {
    key: 'internal.victim_parents',
    track: 'internal',
    label: 'Parents or carers of the pupil(s) harmed informed, as appropriate',
    hint: 'Who was told and when, or why not',
    applies: (facts) => pupilAs(facts, 'victim'),
  },
  {
    key: 'internal.instigator_sanctions',
    track: 'internal',
    label: 'Sanctions decided for the instigator(s) from the sanctions table',
    applies: (facts) => pupilAs(facts, 'instigator'),
  },
  {
    key: 'internal.instigator_parents',
    track: 'internal',
    label: 'Parents or carers of the instigator(s) informed if serious or persistent',
    applies: (facts) => pupilAs(facts, 'instigator'),
  },
  {
    key: 'internal.instigator_at_risk',
    track: 'internal',
    label: 'Considered whether the instigator is themselves at risk',
    hint: 'The conclusion and why',
    applies: (facts) => pupilAs(facts, 'instigator'),
  },
  { key: 'internal.others_identified', track: 'internal', label: 'Other pupils involved identified', applies: pupilInvolved },

  // Type-specific steps (policy 004 §11).
  {
    key: 'ypsi.not_viewed',
    track: 'type',
    label: 'Youth-produced imagery: images not viewed — or, if unavoidable, viewed by the DSL only, with the justification recorded',
    hint: 'If viewed: by whom and why it was unavoidable',
    applies: hasProcedure('youth_produced_sexual_imagery'),
  },
  {
    key: 'ypsi.not_copied',
    track: 'type',
    label: 'Youth-produced imagery: images not copied, printed or shared',
    applies: hasProcedure('youth_produced_sexual_imagery'),
  },
  {
    key: 'ypsi.device_secured',
    track: 'type',
    label: 'Youth-produced imagery: device stored securely',
    hint: 'Where it is held',
    applies: hasProcedure('youth_produced_sexual_imagery'),
  },
  {
    key: 'ypsi.referral_decision',
    track: 'type',
    label: 'Youth-produced imagery: referral decision recorded (police / children’s social care)',
    hint: 'The decision and the reasons',
    applies: hasProcedure('youth_produced_sexual_imagery'),
  },
  {
    key: 'ypsi.deletion_confirmed',
    track: 'type',
    label: 'Youth-produced imagery: deleted only after the DSL confirmed no agency needs the images',
    applies: hasProcedure('youth_produced_sexual_imagery'),
  },
  {
    key: 'iic.police',
    track: 'type',
    label: 'Indecent images: reported to the police; nothing viewed or copied',
    hint: 'Force reference',
    applies: hasProcedure('indecent_images_of_children'),
  },
  {
    key: 'csae.referral',
    track: 'type',
    label: 'Child sexual abuse or exploitation: referral to children’s social care and/or police decided',
    hint: 'The decision and references',
    applies: hasProcedure('online_csae'),
  },
  {
    key: 'harassment.risk_assessment',
    track: 'type',
    label: 'Sexual harassment: risk assessment and support for the victim, and a referral decision',
    applies: hasProcedure('sexual_harassment'),
  },
  {
    key: 'cyberbullying.content_removed',
    track: 'type',
    label: 'Cyberbullying: content removal requested from the service, evidence kept first',
    applies: hasProcedure('cyberbullying'),
  },
  { key: 'hate.recorded', track: 'type', label: 'Online hate: recorded as a hate incident; police report considered', applies: hasProcedure('online_hate') },
  {
    key: 'prevent.referral_decision',
    track: 'type',
    label: 'Radicalisation: Prevent / Channel referral decision recorded',
    hint: 'The decision and the reasons',
    applies: hasProcedure('radicalisation'),
  },
  {
    key: 'cybercrime.cyber_choices',
    track: 'type',
    label: 'Cybercrime: Cyber Choices referral decision recorded',
    hint: 'The decision and the reasons',
    applies: hasProcedure('cybercrime'),
  },
  {
    key: 'filtering.url_to_technical',
    track: 'type',
    label: 'Filtering breach: the address passed to technical staff to block',
    hint: 'The address and who it went to',
    applies: hasProcedure('filtering_breach'),
  },
  { key: 'filtering.parents_informed', track: 'type', label: 'Filtering breach: parents or carers informed', applies: hasProcedure('filtering_breach') },
  {
    key: 'data.breach_assessed',
    track: 'type',
    label: 'Data breach: assessed with the data protection officer; ICO report decision (within 72 hours)',
    applies: hasProcedure('data_breach'),
  },

  // Investigating misuse (policy 000 "Other Incidents").
  {
    key: 'misuse.urls_recorded',
    track: 'misuse',
    label: 'Misuse investigation: the addresses and content found recorded, with descriptions',
    applies: (facts) => facts.misuseInvestigation,
  },
  {
    key: 'misuse.evidence_trail',
    track: 'misuse',
    label: 'Misuse investigation: evidence trail kept (screenshots, dates and times, who reviewed)',
    applies: (facts) => facts.misuseInvestigation,
  },
];

export type StepOutcome = 'done' | 'not_applicable';

export interface StepRecord {
  step: string;
  outcome: string;
}

/** The steps that apply to an incident now, in order: those of every track it has entered. */
export function applicableSteps(facts: IncidentFacts): StepDefinition[] {
  if (facts.status === 'reported') return [];
  const tracks = new Set<StepTrack>(['type', 'misuse']);
  if (facts.enteredIllegal) tracks.add('illegal');
  if (facts.enteredInternal) tracks.add('internal');
  return steps.filter((step) => tracks.has(step.track) && step.applies(facts));
}

export function openSteps(facts: IncidentFacts, records: readonly StepRecord[]): StepDefinition[] {
  const recorded = new Set(records.map((record) => record.step));
  return applicableSteps(facts).filter((step) => !recorded.has(step.key));
}

export type Transition =
  | { kind: 'triage'; illegal: IllegalAnswer; policeAdvice?: string | null; treatAsIllegal?: boolean }
  | { kind: 'not_confirmed_illegal'; reason: string }
  | { kind: 'start_debrief' }
  | { kind: 'close'; lessonsLearnt: string }
  | { kind: 'reopen'; reason: string };

export type TransitionResult = { ok: true; status: IncidentStatus } | { ok: false; reason: string };

/** The one place that says which moves are allowed, and why not. */
export function transition(facts: IncidentFacts, records: readonly StepRecord[], move: Transition): TransitionResult {
  const refuse = (reason: string): TransitionResult => ({ ok: false, reason });
  switch (move.kind) {
    case 'triage': {
      if (facts.status !== 'reported') return refuse('This incident has already been triaged');
      if (move.illegal === 'unsure') {
        if (!move.policeAdvice?.trim()) return refuse('When you are unsure whether it was illegal, take police advice on 101 and record it');
        return { ok: true, status: move.treatAsIllegal ? 'illegal_track' : 'internal_track' };
      }
      return { ok: true, status: move.illegal === 'yes' ? 'illegal_track' : 'internal_track' };
    }
    case 'not_confirmed_illegal': {
      if (facts.status !== 'illegal_track') return refuse('Only an incident on the illegal track can move to the internal track');
      if (!move.reason.trim()) return refuse('Say why it was not confirmed as illegal (for example, the police advice)');
      return { ok: true, status: 'internal_track' };
    }
    case 'start_debrief': {
      if (facts.status !== 'illegal_track' && facts.status !== 'internal_track') return refuse('The incident must be on a track before its debrief');
      const open = openSteps(facts, records);
      if (open.length > 0)
        return refuse(`${open.length} required step${open.length === 1 ? ' is' : 's are'} still open: ${open.map((step) => step.label).join('; ')}`);
      return { ok: true, status: 'debrief' };
    }
    case 'close': {
      if (facts.status !== 'debrief') return refuse('Close the incident from its debrief');
      const open = openSteps(facts, records);
      if (open.length > 0)
        return refuse(`${open.length} required step${open.length === 1 ? ' is' : 's are'} still open: ${open.map((step) => step.label).join('; ')}`);
      if (!move.lessonsLearnt.trim()) return refuse('Record the lessons learnt before closing');
      return { ok: true, status: 'closed' };
    }
    case 'reopen': {
      if (facts.status !== 'closed') return refuse('Only a closed incident can be reopened');
      if (!move.reason.trim()) return refuse('Give the reason for reopening');
      return { ok: true, status: 'debrief' };
    }
  }
}
