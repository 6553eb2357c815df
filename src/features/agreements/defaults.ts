/**
 * Haven's default acceptable use agreements, in Haven's own words, covering the points the source
 * policies' agreements cover (000, 001, 002, 004). Schools edit them as new versions.
 */
export const audiences = ['staff', 'pupil_ks1', 'pupil_ks2', 'parent', 'community'] as const;
export type Audience = (typeof audiences)[number];

export const audienceLabels: Record<Audience, string> = {
  staff: 'Staff, governors and visitors',
  pupil_ks1: 'Pupils in EYFS and key stage 1',
  pupil_ks2: 'Pupils in key stage 2',
  parent: 'Parents and carers, for their child',
  community: 'Community users',
};

export const defaultAgreements: Record<Audience, { title: string; body: string }> = {
  staff: {
    title: 'Staff, governor and visitor code of conduct for ICT',
    body: `I use the school's computers, network, email, learning platform and devices for my work, and I understand that this use is monitored.

## Keeping accounts and data safe
- I keep my passwords private, use a strong password, and lock or sign out of any device I leave, even for a moment.
- I only take personal data about pupils or staff off site on encrypted devices or through the school's approved systems, and I report any loss at once.
- I do not try to get round the school's filtering, monitoring or security, and I do not install software without permission.

## Communicating professionally
- I communicate with pupils and parents only through the school's approved channels — never from personal email, phones or social media accounts.
- I take and store images of pupils only on school devices, only where consent has been given, and I do not keep them on personal equipment.
- I make sure my personal use of social media cannot bring the school into disrepute or compromise my professional standing.

## Reporting
- I report any online-safety concern about a pupil to the designated safeguarding lead straight away, and any concern about a colleague to the headteacher.
- I report any inappropriate material I come across, even by accident, to the e-safety lead.

I understand that breaking this code may lead to disciplinary action and, where the law is broken, to a report to the police.`,
  },
  pupil_ks1: {
    title: 'Our rules for using computers and tablets (EYFS and key stage 1)',
    body: `- I ask a grown-up before I use a computer or tablet. 🙋
- I only use the websites and apps my teacher says I can. ✅
- I keep my name, address and passwords a secret online. 🤫
- I am kind to others online. 😊
- If I see something that upsets me, I tell a grown-up straight away. 🗣️`,
  },
  pupil_ks2: {
    title: 'Staying SMART online (key stage 2)',
    body: `**S — Safe.** I keep my personal information safe: my full name, address, school, phone number, passwords and photos.

**M — Meeting.** I never agree to meet someone I only know online. I tell a trusted adult if anyone asks me to.

**A — Accepting.** I do not open messages, attachments or links from people I do not know or trust.

**R — Reliable.** I remember that people and information online may not be what they seem, and I check with an adult.

**T — Tell.** I tell a trusted adult if anything online makes me feel worried, upset or uncomfortable, or if I know someone else is being hurt online.

I only use school computers and tablets for my school work, I do not try to get round the school's filtering, and I am kind and respectful online. I know the school checks how I use its computers.`,
  },
  parent: {
    title: 'Parent and carer agreement for your child’s use of school ICT',
    body: `Your child will use computers, tablets, the internet and the school's learning platform as part of their learning. The school filters and monitors internet use and teaches children how to stay safe online, but no system can block everything.

By signing, you:
- give permission for your child to use the school's ICT, the internet and the learning platform;
- confirm that you have talked with your child about the pupil agreement and will support the school in keeping to it;
- understand that the school will tell you if your child's use of technology causes concern;
- will raise any online-safety worries about your child with the school, and support the school's approach to online safety at home.

Consent for photographs and video of your child is asked for separately.`,
  },
  community: {
    title: 'Community user agreement',
    body: `I am using the school's ICT as a member of the community.

- I use it only for the purpose agreed with the school, and only while my access lasts.
- I keep any password I am given private and do not let anyone else use my access.
- I do not try to get round the school's filtering, monitoring or security, or install anything.
- I do not access, create or share anything illegal, offensive or inappropriate, and I respect copyright.
- I do not take or share images of pupils.
- I report any problem or concern to the member of staff who arranged my access.

I understand that my use is monitored and that my access can be withdrawn at any time.`,
  },
};
