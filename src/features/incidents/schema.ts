import { z } from 'zod';
import { illegalAnswers, personRoles, riskAreas, severities, visibilities } from './procedure.js';

const text = (label: string, max: number) =>
  z
    .string()
    .trim()
    .max(max, `${label} must be ${max} characters or fewer`)
    .optional()
    .transform((value) => (value ? value : null));

/** One person involved, each with their own role. Either a person on record or someone outside school. */
export const involvedPersonSchema = z
  .object({
    personId: z.string().uuid().nullish(),
    outsideName: text('The name', 100),
    outsideDescription: text('The description', 200),
    role: z.enum(personRoles, 'Choose the person’s role: victim, instigator, witness, affected or other'),
  })
  .refine((value) => value.personId || value.outsideName, 'Choose a person, or give the name of someone outside school');

/** The proforma (policy 000 appendix 3) as Haven asks it. */
export const concernSchema = z.object({
  reporterName: text('The name of the person reporting', 100),
  occurredAt: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'Enter when it happened, as a date and time'),
  location: text('Where it happened', 100),
  device: text('The device', 100),
  typeIds: z.array(z.string().uuid()).min(1, 'Choose at least one type of concern'),
  riskArea: z.enum(riskAreas).nullish(),
  people: z.array(involvedPersonSchema).max(30, 'Up to 30 people can be added to one concern'),
  whatHappened: z.string().trim().min(1, 'Describe what happened').max(10_000, 'What happened must be 10,000 characters or fewer'),
  immediateAction: text('The action taken', 5000),
  urgent: z.boolean().default(false),
  outOfSchool: z.boolean().default(false),
});

export type ConcernInput = z.input<typeof concernSchema>;

export const triageSchema = z.object({
  severity: z.enum(severities, 'Choose the severity: low, medium or high'),
  severityReason: z.string().trim().min(1, 'Give the reason for the severity').max(2000),
  illegal: z.enum(illegalAnswers, 'Say whether it involved illegal material or activity'),
  policeAdvice: text('The police advice', 5000),
  treatAsIllegal: z.boolean().default(false),
  visibility: z.enum(visibilities).default('normal'),
});

export type TriageInput = z.input<typeof triageSchema>;
