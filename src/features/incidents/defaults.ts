/**
 * Defaults seeded for every school; each school can add, rename and retire types and edit the
 * sanctions tables. Types: policy 000's proforma, policy 004 §11 and the filtering/data breaches.
 * `procedure` names the type-specific steps (procedure.ts) a type brings.
 */
export const defaultIncidentTypes: ReadonlyArray<{ code: string; name: string; procedure: string | null }> = [
  { code: 'inappropriate_website', name: 'Inappropriate website accessed', procedure: null },
  { code: 'cyberbullying', name: 'Cyberbullying', procedure: 'cyberbullying' },
  { code: 'inappropriate_behaviour_ict', name: 'Inappropriate behaviour using ICT', procedure: null },
  { code: 'sexual_exploitation_technology', name: 'Sexual exploitation using technology', procedure: 'online_csae' },
  { code: 'illegal_content', name: 'Illegal content accessed', procedure: null },
  { code: 'inappropriate_email', name: 'Inappropriate use of email or other technologies', procedure: null },
  { code: 'network_misuse', name: 'Deliberate misuse of the school network', procedure: null },
  { code: 'sexual_harassment', name: 'Sexual harassment between children online', procedure: 'sexual_harassment' },
  { code: 'youth_produced_sexual_imagery', name: 'Youth-produced sexual imagery (sharing nudes or semi-nudes)', procedure: 'youth_produced_sexual_imagery' },
  { code: 'online_csae', name: 'Online child sexual abuse and exploitation', procedure: 'online_csae' },
  { code: 'indecent_images_of_children', name: 'Indecent images of children', procedure: 'indecent_images_of_children' },
  { code: 'online_hate', name: 'Online hate', procedure: 'online_hate' },
  { code: 'radicalisation', name: 'Radicalisation or extremism', procedure: 'radicalisation' },
  { code: 'cybercrime', name: 'Cybercrime', procedure: 'cybercrime' },
  { code: 'filtering_breach', name: 'Filtering breach', procedure: 'filtering_breach' },
  { code: 'data_breach', name: 'Data breach', procedure: 'data_breach' },
  // What a pupil's "tell a trusted adult" report arrives as, until the adult who triages it chooses.
  { code: 'pupil_worry', name: 'A pupil’s worry (type to be decided at triage)', procedure: null },
];

/** Types whose evidence could be an indecent image of a child: Haven refuses image and video files for them. */
export const imageRefusingProcedures: readonly string[] = ['youth_produced_sexual_imagery', 'indecent_images_of_children'];

/**
 * For those types only files that cannot be pictures are taken, by their bytes: an allowlist, because
 * a list of image formats (or archives holding them) can never be complete.
 */
export const safeEvidenceTypes: readonly string[] = ['application/pdf', 'text/plain'];

/** Types whose reports start visible to the DSL, deputies and headteacher only. */
export const dslOnlyProcedures: readonly string[] = ['youth_produced_sexual_imagery', 'indecent_images_of_children', 'online_csae'];

/** The columns of the pupil and staff tables (shared/policies/README.md, the common UK template). */
export const sanctionColumns = {
  pupil: [
    ['class_teacher', 'Refer to class teacher / tutor'],
    ['head_of_year', 'Refer to head of year / department'],
    ['headteacher', 'Refer to headteacher'],
    ['police', 'Refer to police'],
    ['technical', 'Refer to technical support staff (filtering / security)'],
    ['parents', 'Inform parents or carers'],
    ['remove_access', 'Remove network / internet access rights'],
    ['warning', 'Warning'],
    ['further_sanction', 'Further sanction (e.g. detention or exclusion)'],
  ],
  staff: [
    ['line_manager', 'Refer to line manager'],
    ['headteacher', 'Refer to headteacher'],
    ['la_hr', 'Refer to local authority / HR'],
    ['police', 'Refer to police'],
    ['technical', 'Refer to technical support staff'],
    ['warning', 'Warning'],
    ['suspension', 'Suspension'],
    ['disciplinary', 'Disciplinary action'],
  ],
} as const;

export type SanctionAudience = keyof typeof sanctionColumns;

/**
 * Policy 000 "School Actions & Sanctions". The text version of the policy lost its column headings,
 * so which tick sits in which column is Haven's best reading; schools adjust the table to their own.
 * `types` links a row to incident types ('*' = any type; used with continued infringements).
 */
export const defaultSanctionRules: ReadonlyArray<{ audience: SanctionAudience; offence: string; types: string[]; actions: string[] }> = [
  {
    audience: 'pupil',
    offence: 'Deliberately accessing or trying to access material that could be considered illegal',
    types: ['illegal_content', 'indecent_images_of_children'],
    actions: ['headteacher', 'police', 'technical'],
  },
  {
    audience: 'pupil',
    offence: 'Unauthorised use of non-educational sites during lessons',
    types: ['inappropriate_website'],
    actions: ['class_teacher', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Unauthorised use of a mobile phone, digital camera or other mobile device',
    types: ['inappropriate_behaviour_ict'],
    actions: ['head_of_year', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Unauthorised use of social media, messaging apps or personal email',
    types: ['inappropriate_email'],
    actions: ['head_of_year', 'technical', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Unauthorised downloading or uploading of files',
    types: ['network_misuse'],
    actions: ['class_teacher', 'head_of_year', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Accessing the school network using another pupil’s account',
    types: ['network_misuse'],
    actions: ['class_teacher', 'head_of_year', 'headteacher', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Accessing the school network using the account of a member of staff',
    types: ['network_misuse'],
    actions: ['head_of_year', 'technical', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Corrupting or destroying the data of other users',
    types: ['network_misuse'],
    actions: ['class_teacher', 'head_of_year', 'headteacher', 'parents', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Sending an email, text or message regarded as offensive, harassment or bullying',
    types: ['cyberbullying', 'online_hate', 'sexual_harassment'],
    actions: ['head_of_year', 'headteacher', 'technical', 'parents', 'warning', 'further_sanction'],
  },
  {
    audience: 'pupil',
    offence: 'Continued infringements of the above, following previous warnings or sanctions',
    types: ['*'],
    actions: ['head_of_year', 'headteacher', 'parents', 'remove_access', 'further_sanction'],
  },
  {
    audience: 'pupil',
    offence: 'Actions which could bring the school into disrepute or breach the integrity of its ethos',
    types: ['inappropriate_behaviour_ict'],
    actions: ['headteacher', 'parents'],
  },
  {
    audience: 'pupil',
    offence: 'Accidentally accessing offensive or pornographic material and failing to report it',
    types: ['inappropriate_website'],
    actions: ['class_teacher', 'head_of_year', 'headteacher', 'technical', 'warning'],
  },
  {
    audience: 'pupil',
    offence: 'Deliberately accessing or trying to access offensive or pornographic material',
    types: ['inappropriate_website', 'filtering_breach'],
    actions: ['head_of_year', 'headteacher', 'technical', 'parents', 'further_sanction'],
  },
  {
    audience: 'staff',
    offence: 'Deliberately accessing or trying to access material that could be considered illegal',
    types: ['illegal_content', 'indecent_images_of_children'],
    actions: ['headteacher', 'la_hr', 'police'],
  },
  {
    audience: 'staff',
    offence: 'Inappropriate personal use of the internet, social media or personal email',
    types: ['inappropriate_website', 'inappropriate_email'],
    actions: ['line_manager', 'headteacher'],
  },
  { audience: 'staff', offence: 'Unauthorised downloading or uploading of files', types: ['network_misuse'], actions: ['headteacher'] },
  { audience: 'staff', offence: 'Sharing usernames and passwords, or using another person’s account', types: ['network_misuse'], actions: ['headteacher'] },
  { audience: 'staff', offence: 'Careless use of personal data, e.g. holding or transferring it insecurely', types: ['data_breach'], actions: ['headteacher'] },
  {
    audience: 'staff',
    offence: 'Deliberate actions to breach data protection or network security rules',
    types: ['data_breach', 'network_misuse'],
    actions: ['headteacher', 'la_hr', 'technical', 'warning'],
  },
  {
    audience: 'staff',
    offence: 'Corrupting or destroying the data of other users, or deliberately damaging hardware or software',
    types: ['network_misuse'],
    actions: ['headteacher', 'la_hr', 'technical'],
  },
  {
    audience: 'staff',
    offence: 'Sending an email, text or message regarded as offensive, harassment or bullying',
    types: ['cyberbullying', 'online_hate'],
    actions: ['line_manager', 'headteacher'],
  },
  {
    audience: 'staff',
    offence: 'Using personal email, social networking, messaging or texts to communicate with pupils',
    types: ['inappropriate_email', 'online_csae', 'sexual_exploitation_technology'],
    actions: ['headteacher', 'la_hr', 'disciplinary'],
  },
  {
    audience: 'staff',
    offence: 'Actions which could compromise the staff member’s professional standing',
    types: ['inappropriate_behaviour_ict'],
    actions: ['headteacher'],
  },
  {
    audience: 'staff',
    offence: 'Actions which could bring the school into disrepute or breach the integrity of its ethos',
    types: ['inappropriate_behaviour_ict'],
    actions: ['line_manager', 'headteacher'],
  },
  {
    audience: 'staff',
    offence: 'Accidentally accessing offensive or pornographic material and failing to report it',
    types: ['inappropriate_website'],
    actions: ['headteacher', 'technical'],
  },
  {
    audience: 'staff',
    offence: 'Deliberately accessing or trying to access offensive or pornographic material',
    types: ['inappropriate_website', 'filtering_breach'],
    actions: ['headteacher', 'la_hr', 'technical', 'warning'],
  },
  {
    audience: 'staff',
    offence: 'Breaching copyright or licensing regulations',
    types: ['network_misuse'],
    actions: ['headteacher', 'la_hr', 'technical', 'warning'],
  },
  {
    audience: 'staff',
    offence: 'Continued infringements of the above, following previous warnings or sanctions',
    types: ['*'],
    actions: ['headteacher', 'la_hr', 'technical', 'warning', 'disciplinary'],
  },
];
