/**
 * The category catalogue: the UK Safer Internet Centre's "appropriate filtering" content categories
 * (two of them illegal, blocked for everyone and never excepted) and the operational categories
 * schools choose to block. Descriptions are Haven's own words.
 */

export type CategoryGroup = 'illegal' | 'safer_internet' | 'operational';

export interface CatalogueCategory {
  code: string;
  name: string;
  group: CategoryGroup;
  description: string;
}

export const catalogue: readonly CatalogueCategory[] = [
  {
    code: 'csam',
    name: 'Child sexual abuse content (IWF list)',
    group: 'illegal',
    description: 'Images and videos of child sexual abuse on the Internet Watch Foundation’s list. Illegal: always blocked.',
  },
  {
    code: 'terrorism',
    name: 'Unlawful terrorist content (police-assessed list)',
    group: 'illegal',
    description: 'Content the police Counter Terrorism Internet Referral Unit has assessed as unlawful. Illegal: always blocked.',
  },
  {
    code: 'discrimination',
    name: 'Discrimination',
    group: 'safer_internet',
    description: 'Promotes unjust treatment of people because of a protected characteristic.',
  },
  { code: 'drugs', name: 'Drugs and substance abuse', group: 'safer_internet', description: 'Shows or promotes the illegal use of drugs or substances.' },
  {
    code: 'extremism',
    name: 'Extremism',
    group: 'safer_internet',
    description: 'Promotes terrorism, terrorist ideologies, violence or intolerance (the Prevent duty).',
  },
  { code: 'gambling', name: 'Gambling', group: 'safer_internet', description: 'Betting, casinos, lotteries and games of chance for money.' },
  {
    code: 'malware',
    name: 'Malware and hacking',
    group: 'safer_internet',
    description: 'Spreads malicious software or teaches how to break into computers and accounts.',
  },
  { code: 'pornography', name: 'Pornography', group: 'safer_internet', description: 'Sexually explicit images, video or text.' },
  {
    code: 'piracy',
    name: 'Piracy and copyright theft',
    group: 'safer_internet',
    description: 'Copies of films, music, games and software shared against their copyright.',
  },
  { code: 'self_harm', name: 'Self-harm', group: 'safer_internet', description: 'Promotes or shows self-harm, suicide or eating disorders.' },
  { code: 'violence', name: 'Violence', group: 'safer_internet', description: 'Shows or promotes the unlawful use of violence.' },
  { code: 'social_networking', name: 'Social networking', group: 'operational', description: 'Social networks and their apps.' },
  { code: 'games', name: 'Games', group: 'operational', description: 'Online games and gaming sites.' },
  { code: 'webmail', name: 'Webmail', group: 'operational', description: 'Personal email services in the browser.' },
  { code: 'chat', name: 'Chat and messaging', group: 'operational', description: 'Chat rooms, messaging apps and forums with private messages.' },
  { code: 'dating', name: 'Dating', group: 'operational', description: 'Dating and meeting-people sites.' },
  { code: 'streaming', name: 'Streaming', group: 'operational', description: 'Video and music streaming.' },
  {
    code: 'filter_bypass',
    name: 'Filter bypass (proxies, VPNs, DNS-over-HTTPS)',
    group: 'operational',
    description: 'Web proxies, VPNs and encrypted DNS resolvers that get round the school’s filtering.',
  },
];

export const illegalCategories = catalogue.filter((category) => category.group === 'illegal').map((category) => category.code);

const everyContentCategory = catalogue.filter((category) => category.group === 'safer_internet').map((category) => category.code);

/**
 * Who gets which policy by default (the school changes them). Policy groups are Haven groups,
 * named "<kind>:<code>": all staff, governors, a key stage, a year group, a class, guests; and
 * "uncleared" for anyone not cleared in the ICT access register (or not known).
 */
export const defaultPolicies: ReadonlyArray<{ group: string; name: string; blocked: readonly string[]; allowListOnly: boolean; safeSearch: boolean }> = [
  {
    group: 'all_staff:staff',
    name: 'Staff',
    blocked: [...everyContentCategory.filter((code) => code !== 'self_harm' && code !== 'drugs')],
    allowListOnly: false,
    safeSearch: false,
  },
  { group: 'governors:governors', name: 'Governors', blocked: everyContentCategory, allowListOnly: false, safeSearch: false },
  {
    group: 'key_stage:EYFS',
    name: 'Early years',
    blocked: [...everyContentCategory, 'social_networking', 'games', 'webmail', 'chat', 'dating', 'streaming', 'filter_bypass'],
    allowListOnly: true,
    safeSearch: true,
  },
  {
    group: 'key_stage:KS1',
    name: 'Key stage 1',
    blocked: [...everyContentCategory, 'social_networking', 'games', 'webmail', 'chat', 'dating', 'streaming', 'filter_bypass'],
    allowListOnly: false,
    safeSearch: true,
  },
  {
    group: 'key_stage:KS2',
    name: 'Key stage 2',
    blocked: [...everyContentCategory, 'social_networking', 'games', 'webmail', 'chat', 'dating', 'filter_bypass'],
    allowListOnly: false,
    safeSearch: true,
  },
  {
    group: 'guests:guests',
    name: 'Guests and community users',
    blocked: [...everyContentCategory, 'social_networking', 'dating', 'filter_bypass'],
    allowListOnly: false,
    safeSearch: true,
  },
  {
    group: 'uncleared',
    name: 'Not cleared for ICT access',
    blocked: [...everyContentCategory, 'social_networking', 'games', 'webmail', 'chat', 'dating', 'streaming', 'filter_bypass'],
    allowListOnly: true,
    safeSearch: true,
  },
];

/**
 * The demo school's small hand-made sample per category: every name is under a reserved test or
 * example domain, so nothing real is listed.
 */
export const demoSamples: Record<string, { domains: string[]; urls: string[] }> = {
  csam: { domains: ['iwf-listed-sample.test'], urls: ['images.sample-host.test/listed/123'] },
  terrorism: { domains: ['ctiru-listed-sample.test'], urls: [] },
  discrimination: { domains: ['hate-forum.example', 'supremacy-blog.example'], urls: [] },
  drugs: { domains: ['buy-pills.example', 'grow-guide.example'], urls: [] },
  extremism: { domains: ['recruit-now.example', 'manifesto-library.example'], urls: ['videos.example.net/watch/extremist-channel'] },
  gambling: { domains: ['spin-casino.example', 'odds-today.example', 'scratchcards.example'], urls: [] },
  malware: { domains: ['free-cheats-download.example', 'keylogger-kit.example'], urls: [] },
  pornography: { domains: ['adult-videos.example', 'xxx-pics.example', 'cams.example'], urls: [] },
  piracy: { domains: ['free-films-hd.example', 'torrent-tracker.example'], urls: [] },
  self_harm: { domains: ['pro-ana-diary.example'], urls: ['forum.example.org/boards/harm'] },
  violence: { domains: ['gore-clips.example', 'street-fights.example'], urls: [] },
  social_networking: { domains: ['friendspace.example', 'photoshare.example', 'shortclips.example'], urls: [] },
  games: { domains: ['battle-royale.example', 'browser-games.example', 'blockbuilder.example'], urls: ['videos.example.net/gaming'] },
  webmail: { domains: ['quickmail.example', 'postbox.example'], urls: [] },
  chat: { domains: ['chatroulette-style.example', 'anon-chat.example', 'messenger.example'], urls: [] },
  dating: { domains: ['meet-singles.example'], urls: [] },
  streaming: { domains: ['videos.example.net', 'music-stream.example'], urls: [] },
  filter_bypass: { domains: ['unblock-anything.example', 'free-vpn.example', 'doh-resolver.example'], urls: [] },
};

/** Sites the early-years walled garden allows in the demo (all example names). */
export const demoEarlyYearsAllowList = ['phonics-play.example', 'counting-fun.example', 'storytime.example', 'school-learning-platform.example'];
