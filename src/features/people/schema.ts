import { z } from 'zod';

export const personKinds = ['pupil', 'staff', 'parent', 'governor', 'visitor'] as const;
export type PersonKind = (typeof personKinds)[number];

export const personKindLabels: Record<PersonKind, string> = {
  pupil: 'Pupil',
  staff: 'Staff',
  parent: 'Parent or carer',
  governor: 'Governor',
  visitor: 'Visitor or community user',
};

export const keyStages = ['EYFS', 'KS1', 'KS2', 'KS3', 'KS4', 'KS5'] as const;
export type KeyStage = (typeof keyStages)[number];

/** Year groups as numbers: -1 nursery, 0 reception, 1–13 national curriculum years. */
export function keyStageOf(yearGroup: number): KeyStage {
  if (yearGroup <= 0) return 'EYFS';
  if (yearGroup <= 2) return 'KS1';
  if (yearGroup <= 6) return 'KS2';
  if (yearGroup <= 9) return 'KS3';
  if (yearGroup <= 11) return 'KS4';
  return 'KS5';
}

export function yearLabel(yearGroup: number | null): string {
  if (yearGroup === null) return '';
  if (yearGroup === -1) return 'Nursery';
  if (yearGroup === 0) return 'Reception';
  return `Year ${yearGroup}`;
}

/** Accepts what MIS exports write for a year: "R", "Reception", "N1", "Year 3", "Y3", "3". */
export function parseYearGroup(value: string): number | null {
  const cleaned = value.trim().toLowerCase().replace(/\s+/g, ' ');
  if (cleaned === '') return null;
  if (['r', 'rec', 'reception', 'yr', 'year r', 'fs2', 'f2'].includes(cleaned)) return 0;
  if (['n', 'n1', 'n2', 'nursery', 'fs1', 'f1'].includes(cleaned)) return -1;
  const match = /^(?:year ?|yr ?|y)?(\d{1,2})$/.exec(cleaned);
  if (!match) return Number.NaN;
  const year = Number(match[1]);
  return year >= 1 && year <= 13 ? year : Number.NaN;
}

/** ISO (YYYY-MM-DD) or UK (DD/MM/YYYY) dates, checked to be real dates. */
export function parseDate(value: string): string | null {
  const cleaned = value.trim();
  if (cleaned === '') return null;
  let year: number, month: number, day: number;
  let match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(cleaned);
  if (match) {
    [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    match = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(cleaned);
    if (!match) return 'invalid';
    [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1900 || year > 2100) return 'invalid';
  return date.toISOString().slice(0, 10);
}

export function parseGender(value: string): 'M' | 'F' | 'X' | 'U' | null | 'invalid' {
  const cleaned = value.trim().toLowerCase();
  if (cleaned === '') return null;
  if (['m', 'male', 'boy'].includes(cleaned)) return 'M';
  if (['f', 'female', 'girl'].includes(cleaned)) return 'F';
  if (['x', 'other', 'non-binary', 'nonbinary'].includes(cleaned)) return 'X';
  if (['u', 'unknown', 'not known', 'not stated', 'prefer not to say'].includes(cleaned)) return 'U';
  return 'invalid';
}

export function parseYesNo(value: string): boolean | 'invalid' {
  const cleaned = value.trim().toLowerCase();
  if (['', 'n', 'no', 'false', '0', 'none'].includes(cleaned)) return false;
  if (['y', 'yes', 'true', '1'].includes(cleaned)) return true;
  return 'invalid';
}

/** SEND status as SIMS and Arbor write it: N (none), K (SEN support), E (EHC plan), or words. */
export function parseSendStatus(value: string): boolean | 'invalid' {
  const cleaned = value.trim().toLowerCase();
  if (['', 'n', 'no', 'none', 'false', '0'].includes(cleaned)) return false;
  if (['k', 'e', 's', 'a', 'p', 'y', 'yes', 'true', '1', 'sen support', 'ehc plan', 'ehcp', 'statement'].includes(cleaned)) return true;
  return 'invalid';
}

const name = (label: string) =>
  z
    .string()
    .trim()
    .min(1, `Enter the ${label}`)
    .max(100, `The ${label} must be 100 characters or fewer`)
    .refine((value) => !/[\p{Cc}<>]/u.test(value), `The ${label} must not contain < or > or control characters`);
const optionalText = (max: number, label: string) =>
  z
    .string()
    .trim()
    .max(max, `The ${label} must be ${max} characters or fewer`)
    .optional()
    .transform((value) => (value ? value : null));

/** A person as the form and the API submit it (dates ISO, year as a number). */
export const personInputSchema = z.object({
  kind: z.enum(personKinds, 'Choose who this is: pupil, staff, parent or carer, governor, or visitor'),
  legalFirstName: name('legal first name'),
  legalLastName: name('legal last name'),
  preferredFirstName: optionalText(100, 'preferred first name'),
  preferredLastName: optionalText(100, 'preferred last name'),
  dateOfBirth: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullish(),
  gender: z.enum(['M', 'F', 'X', 'U']).nullish(),
  yearGroup: z.number().int().min(-1).max(13).nullish(),
  className: optionalText(40, 'class'),
  send: z.boolean().default(false),
  eal: z.boolean().default(false),
  lookedAfter: z.boolean().default(false),
  misId: optionalText(40, 'MIS id'),
  jobTitle: optionalText(100, 'job title'),
  email: z
    .string()
    .trim()
    .email('Enter an email address in the correct format, like name@example.sch.uk')
    .max(200)
    .nullish()
    .or(z.literal('').transform(() => null)),
  phone: optionalText(40, 'phone number'),
  organisation: optionalText(100, 'organisation'),
  /** The user name the web proxy sees (filtering: who is who). */
  networkUsername: z
    .string()
    .trim()
    .max(100)
    .regex(/^[^\s]*$/, 'The network user name cannot contain spaces')
    .nullish()
    .transform((value) => (value ? value.toLowerCase() : null)),
  startDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullish(),
  leaveDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullish(),
});

export type PersonInput = z.input<typeof personInputSchema>;
export type ValidPersonInput = z.output<typeof personInputSchema>;

/** Posts on the roles register ("who to tell"); policies 000 and 004 ask for these on display. */
export const posts = ['headteacher', 'dsl', 'deputy_dsl', 'esafety_lead', 'esafety_governor', 'chair_of_governors', 'siro', 'iao', 'network_manager'] as const;
export type Post = (typeof posts)[number];
export const postLabels: Record<Post, string> = {
  headteacher: 'Headteacher',
  dsl: 'Designated safeguarding lead (DSL)',
  deputy_dsl: 'Deputy designated safeguarding lead',
  esafety_lead: 'E-safety coordinator / lead',
  esafety_governor: 'E-safety (safeguarding) governor',
  chair_of_governors: 'Chair of governors',
  siro: 'Senior information risk owner (SIRO)',
  iao: 'Information asset owner (IAO)',
  network_manager: 'Network manager / IT provider',
};
