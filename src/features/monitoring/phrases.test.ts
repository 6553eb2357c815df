import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultPhraseList } from './default-phrases.js';
import { PhraseMatcher, defaultThreshold, formatPhraseList, parsePhraseList, scoreText, themes, type PhraseEntry, type Theme } from './phrases.js';
import { normaliseText } from './search-terms.js';

function buildEntry(overrides: Partial<PhraseEntry> & { parts: readonly string[] }): PhraseEntry {
  return { theme: 'self_harm', weight: 10, severity: 3, ...overrides };
}

function score(entries: readonly PhraseEntry[], text: string, threshold = defaultThreshold) {
  return scoreText(new PhraseMatcher(entries), normaliseText(text), threshold);
}

/** [theme, score, severity] for each theme that alerted. */
function summary(entries: readonly PhraseEntry[], text: string, threshold = defaultThreshold) {
  return score(entries, text, threshold).map((result) => [result.theme, result.score, result.severity]);
}

describe('reading a phrase list', () => {
  it('reads single phrases and combinations, skipping comments and blank lines', () => {
    const { entries, errors } = parsePhraseList(
      [
        '# a comment',
        '',
        'suicide | 15 | 5 | kill myself',
        '   # indented comment',
        'suicide | 15 | 5 | how to + noose',
        'self_harm | -2 | 1 | first aid',
      ].join('\n'),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(entries, [
      { theme: 'suicide', weight: 15, severity: 5, parts: ['kill myself'] },
      { theme: 'suicide', weight: 15, severity: 5, parts: ['how to', 'noose'] },
      { theme: 'self_harm', weight: -2, severity: 1, parts: ['first aid'] },
    ]);
  });

  it('tidies spacing and accepts a theme in capitals and Windows line endings', () => {
    const { entries, errors } = parsePhraseList('  Bullying|10|2|  being    bullied  \r\nDRUGS | +5 | 2 | buy+weed\r\n');
    assert.deepEqual(errors, []);
    assert.deepEqual(entries, [
      { theme: 'bullying', weight: 10, severity: 2, parts: ['being bullied'] },
      { theme: 'drugs', weight: 5, severity: 2, parts: ['buy', 'weed'] },
    ]);
  });

  const errorCases: Array<[string, string, string]> = [
    ['an unknown theme, with a suggestion', 'selfharm | 10 | 3 | self harm', "unknown theme 'selfharm' (did you mean 'self_harm'?)"],
    ['an unknown theme', 'gambling | 10 | 3 | casino', "unknown theme 'gambling'"],
    ['too few fields', 'suicide | 15 | kill myself', "expected 'theme | weight | severity | phrase' (4 fields), found 3"],
    ['too many fields', 'suicide | 15 | 5 | kill | myself', "expected 'theme | weight | severity | phrase' (4 fields), found 5"],
    ['a weight of 0', 'suicide | 0 | 5 | kill myself', "weight must be a whole number from -100 to 100 other than 0, not '0'"],
    ['a weight in words', 'suicide | ten | 5 | kill myself', "weight must be a whole number from -100 to 100 other than 0, not 'ten'"],
    ['a fractional weight', 'suicide | 1.5 | 5 | kill myself', "weight must be a whole number from -100 to 100 other than 0, not '1.5'"],
    ['a weight over 100', 'suicide | 101 | 5 | kill myself', "weight must be a whole number from -100 to 100 other than 0, not '101'"],
    ['a severity of 0', 'suicide | 15 | 0 | kill myself', "severity must be a whole number from 1 to 5, not '0'"],
    ['a severity of 6', 'suicide | 15 | 6 | kill myself', "severity must be a whole number from 1 to 5, not '6'"],
    ['a missing phrase', 'suicide | 15 | 5 |', 'the phrase is missing'],
    ['an empty part', 'suicide | 15 | 5 | how to + ', "empty part in 'how to +' (use ' + ' only between the parts of a combination)"],
    ['a part with nothing to match', 'suicide | 15 | 5 | how to + ?!', "'?!' has no letters or digits to match"],
    ['a part given twice', 'suicide | 15 | 5 | noose + Noose', "'Noose' appears twice in the combination"],
    ['too many parts', 'suicide | 15 | 5 | a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9', 'a combination can have at most 8 parts, not 9'],
  ];
  for (const [name, line, message] of errorCases)
    it(`refuses ${name}, giving the line number`, () => {
      const { entries, errors } = parsePhraseList(`# list\n\nsuicide | 15 | 5 | end my life\n${line}\n`);
      assert.deepEqual(errors, [{ line: 4, message }]);
      assert.equal(entries.length, 1);
    });

  it('reports every error on a line', () => {
    const { errors } = parsePhraseList('selfharm | 0 | 9 | self harm');
    assert.deepEqual(
      errors.map((error) => error.line),
      [1, 1, 1],
    );
  });

  it('refuses a phrase listed twice for the same theme, even written differently', () => {
    const { entries, errors } = parsePhraseList(
      'self_harm | 15 | 3 | self harm\nsuicide | 15 | 3 | self harm\n\nself_harm | 10 | 2 | Self-Harm\nsuicide | 5 | 5 | noose + how to\nsuicide | 5 | 5 | how to + noose',
    );
    assert.deepEqual(errors, [
      { line: 4, message: 'the same phrase for self_harm is already on line 1' },
      { line: 6, message: 'the same combination for suicide is already on line 5' },
    ]);
    assert.equal(entries.length, 3);
  });

  it('never throws, whatever it is given', () => {
    for (const text of ['', '|||', '\u0000', '| | | |', 'suicide | 15 | 5 | +', 'x'.repeat(10_000), '\n'.repeat(1000)])
      assert.doesNotThrow(() => parsePhraseList(text));
  });
});

describe('writing a phrase list', () => {
  const entries: PhraseEntry[] = [
    { theme: 'suicide', weight: 15, severity: 5, parts: ['kill myself'] },
    { theme: 'suicide', weight: 15, severity: 5, parts: ['how to', 'noose'] },
    { theme: 'weapons', weight: -10, severity: 1, parts: ['bath bomb'] },
  ];

  it('writes one line per entry in the text form', () => {
    assert.equal(formatPhraseList(entries), 'suicide | 15 | 5 | kill myself\nsuicide | 15 | 5 | how to + noose\nweapons | -10 | 1 | bath bomb\n');
  });

  it('reads back to the same entries', () => {
    assert.deepEqual(parsePhraseList(formatPhraseList(entries)), { entries, errors: [] });
  });

  it('round-trips the default list', () => {
    const parsed = parsePhraseList(defaultPhraseList).entries;
    assert.deepEqual(parsePhraseList(formatPhraseList(parsed)).entries, parsed);
  });

  it('keeps separators out of parts so the line still reads back', () => {
    const text = formatPhraseList([{ theme: 'hate', weight: 5, severity: 2, parts: ['a|b', 'c+d\ne'] }]);
    assert.equal(text, 'hate | 5 | 2 | a b + c d e\n');
    assert.equal(parsePhraseList(text).errors.length, 0);
  });
});

describe('matching phrases', () => {
  it('matches whole words only', () => {
    const entries = [buildEntry({ theme: 'violence', parts: ['kill'] }), buildEntry({ theme: 'sexual', parts: ['sex'] })];
    for (const text of ['skills for year 5', 'sussex', 'essex fc', 'killer whale', 'middlesex']) assert.deepEqual(summary(entries, text), [], text);
    assert.deepEqual(summary(entries, 'kill'), [['violence', 10, 3]]);
    assert.deepEqual(summary(entries, 'Kill!'), [['violence', 10, 3]]);
  });

  it('finds overlapping phrases', () => {
    const entries = [
      buildEntry({ parts: ['self harm'], weight: 10 }),
      buildEntry({ parts: ['harm'], weight: 3 }),
      buildEntry({ parts: ['harm myself'], weight: 4 }),
    ];
    assert.deepEqual(summary(entries, 'self harm myself'), [['self_harm', 17, 3]]);
  });

  it('finds a phrase used in two themes in each', () => {
    const entries = [buildEntry({ theme: 'suicide', parts: ['overdose'], severity: 4 }), buildEntry({ theme: 'drugs', parts: ['overdose'], severity: 2 })];
    assert.deepEqual(summary(entries, 'overdose'), [
      ['suicide', 10, 4],
      ['drugs', 10, 2],
    ]);
  });

  it('needs every part of a combination, in any order, anywhere', () => {
    const entries = [buildEntry({ theme: 'suicide', parts: ['how to', 'noose'], severity: 5 })];
    assert.deepEqual(summary(entries, 'how to tie a noose'), [['suicide', 10, 5]]);
    assert.deepEqual(summary(entries, 'noose knot how to'), [['suicide', 10, 5]]);
    assert.deepEqual(summary(entries, 'how to tie a knot'), []);
    assert.deepEqual(summary(entries, 'noose'), []);
  });

  it('counts an entry once however often it appears', () => {
    const entries = [buildEntry({ parts: ['harm'], weight: 6 }), buildEntry({ parts: ['self', 'harm'], weight: 6 })];
    assert.deepEqual(summary(entries, 'harm harm harm self harm'), [['self_harm', 12, 3]]);
  });

  it('matches a multi-word phrase written as one word', () => {
    const entries = [buildEntry({ parts: ['self harm'] }), buildEntry({ theme: 'suicide', parts: ['kill myself'], severity: 5 })];
    assert.deepEqual(summary(entries, '#selfharm'), [['self_harm', 10, 3]]);
    assert.deepEqual(summary(entries, 'k i l l m y s e l f'), [['suicide', 10, 5]]);
  });

  it('sees through normalisation tricks', () => {
    const entries = [buildEntry({ theme: 'suicide', parts: ['kill myself'], severity: 5 })];
    for (const text of ['KILL MYSELF', 'k1ll mys3lf', 'k!ll myself', 'kiiiill myself', 'ｋｉｌｌ ｍｙｓｅｌｆ', 'kill... myself?!', 'kíll mysélf'])
      assert.deepEqual(summary(entries, text), [['suicide', 10, 5]], text);
  });

  it('matches phrases in other scripts', () => {
    const entries = [buildEntry({ theme: 'bullying', parts: ['меня все ненавидят'], severity: 2 })];
    assert.deepEqual(summary(entries, 'Меня ВСЕ ненавидят!'), [['bullying', 10, 2]]);
    assert.deepEqual(summary(entries, 'меня все любят'), []);
  });

  it('lowers the score and the severity by one when a negative context matches', () => {
    const entries = [buildEntry({ parts: ['self harm'], weight: 15, severity: 4 }), buildEntry({ parts: ['helpline'], weight: -2, severity: 1 })];
    assert.deepEqual(summary(entries, 'self harm'), [['self_harm', 15, 4]]);
    assert.deepEqual(summary(entries, 'self harm helpline'), [['self_harm', 13, 3]]);
    const result = score(entries, 'self harm helpline')[0]!;
    assert.deepEqual(result.matched, ['self harm', 'helpline']);
  });

  it('does not lower the severity below 1', () => {
    const entries = [buildEntry({ parts: ['sad'], weight: 15, severity: 1 }), buildEntry({ parts: ['film'], weight: -2 })];
    assert.deepEqual(summary(entries, 'sad film'), [['self_harm', 13, 1]]);
  });

  it('lets a negative context take a score under the threshold', () => {
    const entries = [buildEntry({ theme: 'suicide', parts: ['suicide'], weight: 15 }), buildEntry({ theme: 'suicide', parts: ['squad'], weight: -10 })];
    assert.deepEqual(summary(entries, 'suicide squad'), []);
  });

  it('lowers only the theme the negative belongs to', () => {
    const entries = [
      buildEntry({ theme: 'violence', parts: ['fight'], weight: 10, severity: 2 }),
      buildEntry({ theme: 'bullying', parts: ['school'], weight: 10, severity: 2 }),
      buildEntry({ theme: 'violence', parts: ['boxing'], weight: -10 }),
    ];
    assert.deepEqual(summary(entries, 'boxing fight school'), [['bullying', 10, 2]]);
  });

  it('reports nothing for negative contexts alone', () => {
    const entries = [buildEntry({ parts: ['homework'], weight: -10 })];
    assert.deepEqual(summary(entries, 'homework', -100), []);
  });

  it('alerts at the threshold and not below it', () => {
    const entries = [buildEntry({ parts: ['lonely'], weight: 5 })];
    assert.deepEqual(summary(entries, 'lonely', 5), [['self_harm', 5, 3]]);
    assert.deepEqual(summary(entries, 'lonely', 6), []);
    assert.deepEqual(summary(entries, 'lonely'), []);
  });

  it('puts the most severe theme first', () => {
    const entries = [
      buildEntry({ theme: 'drugs', parts: ['weed'], weight: 30, severity: 2 }),
      buildEntry({ theme: 'suicide', parts: ['die'], weight: 10, severity: 4 }),
      buildEntry({ theme: 'bullying', parts: ['bully'], weight: 20, severity: 2 }),
    ];
    assert.deepEqual(
      score(entries, 'weed bully die').map((result) => result.theme),
      ['suicide', 'drugs', 'bullying'],
    );
  });

  it('leaves out entries with nothing to match and counts the rest', () => {
    const matcher = new PhraseMatcher([buildEntry({ parts: ['?!'] }), buildEntry({ parts: ['sad'] }), buildEntry({ parts: [] })]);
    assert.equal(matcher.size, 1);
    assert.deepEqual(scoreText(matcher, normaliseText('?! sad'), 10).length, 1);
  });

  it('matches nothing with an empty list or empty text', () => {
    assert.deepEqual(scoreText(new PhraseMatcher([]), normaliseText('anything'), 1), []);
    assert.deepEqual(scoreText(new PhraseMatcher([buildEntry({ parts: ['sad'] })]), normaliseText(''), 1), []);
  });

  it('finds exactly the entries a simple search would among 5,000 generated phrases', () => {
    const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'sé', 'pi', 'do', 'be', 'gu'];
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return (seed >>> 8) % n;
    };
    const word = () => syllables[random(12)]! + syllables[random(12)]! + (random(3) === 0 ? syllables[random(12)]! : '');
    const phrase = () => Array.from({ length: 1 + random(3) }, word).join(' ');
    const entries: PhraseEntry[] = [];
    const seen = new Set<string>();
    while (entries.length < 5000) {
      const parts = random(5) === 0 ? [phrase(), phrase()] : [phrase()];
      const key = parts.join('+');
      if (seen.has(key) || parts[0] === parts[1]) continue;
      seen.add(key);
      entries.push({ theme: themes[random(themes.length)]!, weight: random(4) === 0 ? -3 : 1 + random(12), severity: 1 + random(5), parts });
    }
    const matcher = new PhraseMatcher(entries);
    assert.equal(matcher.size, 5000);

    // Reference: an entry matches when each part's " normalised " form (or, for several words, the
    // words run together) is in the text.
    const forms = entries.map((entry) =>
      entry.parts.map((part) => {
        const form = normaliseText(part);
        const compact = form.replaceAll(' ', '');
        return form.trim().includes(' ') && compact.length >= 6 ? [form, ` ${compact} `] : [form];
      }),
    );
    let matchedTexts = 0;
    for (let i = 0; i < 500; i += 1) {
      const words = Array.from({ length: 1 + random(12) }, () => (random(4) === 0 ? entries[random(5000)]!.parts[0]! : word()));
      const text = normaliseText(words.join(' '));
      const expected = entries.filter((_, index) => forms[index]!.every((alternatives) => alternatives.some((form) => text.includes(form))));
      const actual = matcher.matches(text);
      assert.deepEqual(actual, expected, text);
      if (actual.length > 0) matchedTexts += 1;
    }
    assert.ok(matchedTexts > 100, `only ${matchedTexts} texts matched anything`);
  });
});

describe('the default phrase list', () => {
  const parsed = parsePhraseList(defaultPhraseList);
  const matcher = new PhraseMatcher(parsed.entries);

  it('reads with no errors', () => {
    assert.deepEqual(parsed.errors, []);
    assert.equal(matcher.size, parsed.entries.length);
  });

  it('has strong phrases, combinations and negative contexts for every theme', () => {
    for (const theme of themes) {
      const own = parsed.entries.filter((entry) => entry.theme === theme);
      assert.ok(own.length >= 15, `${theme}: ${own.length} entries`);
      assert.ok(
        own.some((entry) => entry.weight >= defaultThreshold),
        `${theme}: nothing alerts on its own`,
      );
      assert.ok(
        own.some((entry) => entry.weight < 0),
        `${theme}: no negative context`,
      );
    }
    assert.ok(parsed.entries.filter((entry) => entry.parts.length > 1).length >= 20);
  });

  // search → [theme, severity] of each alert at the default threshold; [] means it must not alert.
  const searches: Array<[string, Array<[Theme, number]>]> = [
    ['how to kill myself', [['suicide', 5]]],
    ['h0w t0 k1ll mys3lf', [['suicide', 5]]],
    ['i want to d i e', [['suicide', 4]]],
    ['don’t want to live anymore', [['suicide', 4]]],
    ['how many paracetamol to overdose', [['suicide', 4]]],
    ['how many paracetamol can i take for a headache', []],
    ['suicide', [['suicide', 3]]],
    ['suicide squad film', []],
    ['suicide helpline number', [['suicide', 2]]],
    ['self harm', [['self_harm', 3]]],
    ['s3lf h4rm', [['self_harm', 3]]],
    ['self harm support helpline', [['self_harm', 2]]],
    ['how to hide self harm scars', [['self_harm', 4]]],
    ['cut myself shaving', []],
    ['history of the holocaust', []],
    ['holocaust never happened', [['hate', 3]]],
    ['skills for year 5', []],
    ['sussex university open day', []],
    ['therapist near me', []],
    ['school fight video', [['violence', 2]]],
    ['how to kill someone in minecraft', []],
    ['beheading of anne boleyn', []],
    ['how to make a bomb', [['weapons', 5]]],
    ['how to make a bath bomb', []],
    ['where to buy weed near me', [['drugs', 3]]],
    ['weed killer for patio', []],
    ['effects of cannabis on the brain gcse', []],
    ['am i being groomed', [['grooming', 4]]],
    ['dog grooming near me', []],
    ['signs of grooming pshe', []],
    ['everyone hates me', [['bullying', 2]]],
    ['anti bullying week poster', []],
    ['how to join isis', [['extremism', 5]]],
    ['isis egyptian goddess', []],
    ['sex education year 6', []],
    ['naked mole rat facts', []],
    ['send nudes', [['sexual', 3]]],
  ];
  for (const [search, expected] of searches)
    it(`${expected.length === 0 ? 'does not alert on' : 'alerts on'} "${search}"`, () => {
      const alerts = scoreText(matcher, normaliseText(search), defaultThreshold).map((result) => [result.theme, result.severity]);
      assert.deepEqual(alerts, expected);
    });
});
