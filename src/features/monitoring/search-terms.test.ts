import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeComponent, extractSearch, mayBeSearch, maxTermLength, normaliseText } from './search-terms.js';

interface ExtractionCase {
  name: string;
  host: string;
  rest: string;
  expected: { engine: string; term: string } | null;
}

const found = (engine: string, term: string) => ({ engine, term });

const extractionCases: ExtractionCase[] = [
  // Google
  { name: 'Google web search', host: 'www.google.com', rest: '/search?q=volcano+facts&hl=en', expected: found('google', 'volcano facts') },
  { name: 'Google on a country domain', host: 'www.google.co.uk', rest: '/search?client=firefox&q=tudor%20houses', expected: found('google', 'tudor houses') },
  { name: 'Google on google.com.au', host: 'google.com.au', rest: '/search?q=koala', expected: found('google', 'koala') },
  {
    name: 'Google image search (tbm=isch) is a search',
    host: 'www.google.com',
    rest: '/search?tbm=isch&q=red+pandas',
    expected: found('google', 'red pandas'),
  },
  { name: 'Google with the port still on the rest', host: 'www.google.com', rest: ':443/search?q=rivers', expected: found('google', 'rivers') },
  { name: 'Google Maps is not a search', host: 'www.google.com', rest: '/maps?q=10+downing+street', expected: null },
  { name: 'Google Maps path search is not a search', host: 'www.google.com', rest: '/maps/search/library/?q=x', expected: null },
  { name: 'the Google redirector is not a search', host: 'www.google.com', rest: '/url?q=https://example.org/&sa=U', expected: null },
  { name: 'Google suggestions are not searches', host: 'www.google.com', rest: '/complete/search?q=how+to&client=gws-wiz', expected: null },
  { name: 'suggestqueries.google.com is not a search', host: 'suggestqueries.google.com', rest: '/complete/search?q=how', expected: null },
  { name: 'Google on the root with q is not a search', host: 'www.google.com', rest: '/?q=rivers', expected: null },
  { name: 'Google search without q', host: 'www.google.com', rest: '/search?tbm=isch', expected: null },
  { name: 'Google search with an empty q', host: 'www.google.com', rest: '/search?q=&oq=', expected: null },
  { name: 'the first non-empty q wins', host: 'www.google.com', rest: '/search?q=&q=second', expected: found('google', 'second') },
  { name: 'a parameter that ends in q is not q', host: 'www.google.com', rest: '/search?oq=partial&faq=1', expected: null },
  // Encodings
  { name: 'percent-encoded space', host: 'www.google.com', rest: '/search?q=solar%20system', expected: found('google', 'solar system') },
  { name: 'encoded curly apostrophe (%E2%80%99)', host: 'www.google.com', rest: '/search?q=don%E2%80%99t+panic', expected: found('google', 'don’t panic') },
  { name: 'encoded plus stays a plus', host: 'www.google.com', rest: '/search?q=c%2B%2B+tutorial', expected: found('google', 'c++ tutorial') },
  { name: 'a bad escape (%zz) stays literal', host: 'www.google.com', rest: '/search?q=100%zz+sure', expected: found('google', '100%zz sure') },
  { name: 'a bad escape beside a good one', host: 'www.google.com', rest: '/search?q=caf%C3%A9+50%+off', expected: found('google', 'café 50% off') },
  { name: 'broken UTF-8 becomes the replacement character', host: 'www.google.com', rest: '/search?q=na%C3ve', expected: found('google', 'na\ufffdve') },
  {
    name: 'spaces around the term are trimmed and runs collapsed',
    host: 'www.google.com',
    rest: '/search?q=++rain++forest++',
    expected: found('google', 'rain forest'),
  },
  { name: 'control characters become spaces', host: 'www.google.com', rest: '/search?q=line%0Abreak%00here', expected: found('google', 'line break here') },
  { name: 'the fragment is not part of the term', host: 'www.google.com', rest: '/search?q=owls#top', expected: found('google', 'owls') },
  // Other engines
  { name: 'Bing web search', host: 'www.bing.com', rest: '/search?q=moon+landing&form=QBLH', expected: found('bing', 'moon landing') },
  { name: 'Bing image search', host: 'www.bing.com', rest: '/images/search?q=otters', expected: found('bing', 'otters') },
  { name: 'Bing suggestions are not searches', host: 'www.bing.com', rest: '/AS/Suggestions?qry=mo&cvid=1', expected: null },
  { name: 'DuckDuckGo on /', host: 'duckduckgo.com', rest: '/?q=space+station&ia=web', expected: found('duckduckgo', 'space station') },
  { name: 'DuckDuckGo HTML version', host: 'html.duckduckgo.com', rest: '/html/?q=glaciers', expected: found('duckduckgo', 'glaciers') },
  { name: 'DuckDuckGo /html', host: 'duckduckgo.com', rest: '/html?q=glaciers', expected: found('duckduckgo', 'glaciers') },
  { name: 'DuckDuckGo autocomplete is not a search', host: 'duckduckgo.com', rest: '/ac/?q=gla&kl=wt-wt', expected: null },
  { name: 'Yahoo uses p', host: 'search.yahoo.com', rest: '/search?p=roman+roads&fr=yfp', expected: found('yahoo', 'roman roads') },
  { name: 'Yahoo UK with ;_ylt in the path', host: 'uk.search.yahoo.com', rest: '/search;_ylt=AwrX?p=castles', expected: found('yahoo', 'castles') },
  { name: 'Yahoo q is not the term', host: 'search.yahoo.com', rest: '/search?q=castles', expected: null },
  { name: 'Yahoo Mail is not a search', host: 'mail.yahoo.com', rest: '/search?p=x', expected: null },
  { name: 'Ecosia', host: 'www.ecosia.org', rest: '/search?method=index&q=tree+planting', expected: found('ecosia', 'tree planting') },
  { name: 'Ecosia autocomplete is not a search', host: 'ac.ecosia.org', rest: '/autocomplete?q=tree', expected: null },
  { name: 'YouTube results', host: 'www.youtube.com', rest: '/results?search_query=times+tables+song', expected: found('youtube', 'times tables song') },
  { name: 'YouTube mobile results', host: 'm.youtube.com', rest: '/results?search_query=minecraft', expected: found('youtube', 'minecraft') },
  { name: 'a YouTube video is not a search', host: 'www.youtube.com', rest: '/watch?v=abc123&q=x', expected: null },
  {
    name: 'Wikipedia index.php search',
    host: 'en.wikipedia.org',
    rest: '/w/index.php?search=photosynthesis&title=Special%3ASearch',
    expected: found('wikipedia', 'photosynthesis'),
  },
  {
    name: 'Wikipedia Special:Search',
    host: 'en.m.wikipedia.org',
    rest: '/wiki/Special:Search?search=great+fire+of+london',
    expected: found('wikipedia', 'great fire of london'),
  },
  { name: 'Wikipedia title search API is not a search', host: 'en.wikipedia.org', rest: '/w/rest.php/v1/search/title?q=photo&limit=10', expected: null },
  { name: 'Wikipedia opensearch API is not a search', host: 'en.wikipedia.org', rest: '/w/api.php?action=opensearch&search=photo', expected: null },
  { name: 'Startpage uses query', host: 'www.startpage.com', rest: '/do/search?query=rainbows', expected: found('startpage', 'rainbows') },
  { name: 'Yandex uses text', host: 'yandex.com', rest: '/search/?text=aurora', expected: found('yandex', 'aurora') },
  { name: 'Brave Search', host: 'search.brave.com', rest: '/search?q=bees', expected: found('brave', 'bees') },
  // Child-safe engines
  { name: 'Kiddle', host: 'www.kiddle.co', rest: '/s.php?q=dinosaurs', expected: found('kiddle', 'dinosaurs') },
  { name: 'KidRex', host: 'www.kidrex.org', rest: '/results/?q=planets', expected: found('kidrex', 'planets') },
  { name: 'KidzSearch', host: 'search.kidzsearch.com', rest: '/kzsearch.php?q=rainforest', expected: found('kidzsearch', 'rainforest') },
  { name: 'Kidtopia', host: 'www.kidtopia.info', rest: '/searchresults.html?q=frogs', expected: found('kidtopia', 'frogs') },
  { name: 'Swiggle', host: 'swiggle.org.uk', rest: '/search/?q=tigers', expected: found('swiggle', 'tigers') },
  // Generic rule
  { name: 'a site search page', host: 'www.bbc.co.uk', rest: '/search?q=bitesize+fractions', expected: found('bbc.co.uk', 'bitesize fractions') },
  { name: 'a site search on the root', host: 'library.example.org', rest: '/?q=poetry', expected: found('library.example.org', 'poetry') },
  {
    name: 'a site search with query',
    host: 'shop.example.com',
    rest: '/search/results?query=school+shoes',
    expected: found('shop.example.com', 'school shoes'),
  },
  { name: 'a site search with search on the root', host: 'www.example.net', rest: '/?search=maths+games', expected: found('example.net', 'maths games') },
  { name: 'a search page in PHP', host: 'www.example.org', rest: '/site-search.php?q=uniform', expected: found('example.org', 'uniform') },
  { name: 'q on a page that is not a search', host: 'www.example.org', rest: '/products?q=shoes', expected: null },
  { name: 'an API search endpoint', host: 'www.example.org', rest: '/api/search?q=shoes', expected: null },
  { name: 'a versioned API search endpoint', host: 'www.example.org', rest: '/v2/search?q=shoes', expected: null },
  { name: 'a JSON search endpoint', host: 'www.example.org', rest: '/search.json?q=shoes', expected: null },
  { name: 'a suggestion endpoint', host: 'www.example.org', rest: '/search/suggest?q=sh', expected: null },
  { name: 'an autocomplete endpoint', host: 'www.example.org', rest: '/autocomplete/search?q=sh', expected: null },
  { name: 'an API host', host: 'api.example.org', rest: '/search?q=shoes', expected: null },
  { name: 'a JSONP callback', host: 'www.example.org', rest: '/search?q=shoes&callback=cb123', expected: null },
  { name: 'an API key', host: 'www.example.org', rest: '/search?key=abc&q=shoes', expected: null },
  { name: 'a redirector target', host: 'www.example.org', rest: '/?q=https%3A%2F%2Fother.example%2F', expected: null },
  { name: 'a number is not a term', host: 'www.example.org', rest: '/search?q=2', expected: null },
  { name: 'WordPress s= is not read', host: 'blog.example.org', rest: '/?s=poems', expected: null },
  { name: 'no query string', host: 'www.example.org', rest: '/search', expected: null },
  { name: 'a CONNECT with no rest', host: 'www.google.com', rest: '', expected: null },
];

describe('extracting the search from a URL', () => {
  for (const { name, host, rest, expected } of extractionCases)
    it(`${expected ? 'finds' : 'finds no search in'}: ${name}`, () => {
      assert.deepEqual(extractSearch(host, rest), expected);
    });

  it('keeps at most 200 characters of the term', () => {
    const long = 'a'.repeat(150) + '+' + 'b'.repeat(150);
    const search = extractSearch('www.google.com', `/search?q=${long}`);
    assert.equal(search?.term.length, maxTermLength);
    assert.equal(search?.term, `${'a'.repeat(150)} ${'b'.repeat(49)}`);
  });

  it('counts characters, not UTF-16 units, and never splits one', () => {
    const emoji = encodeURIComponent('🦊'.repeat(250));
    const term = extractSearch('www.google.com', `/search?q=${emoji}`)?.term ?? '';
    assert.equal(Array.from(term).length, maxTermLength);
    assert.equal(term, '🦊'.repeat(maxTermLength));
  });

  it('decodes without ever throwing', () => {
    for (const raw of ['%', '%%', '%e', '%E2%80', '%ED%A0%80', '%FF%FE', '100%', '+%+', 'a%2', '%uD83D']) assert.doesNotThrow(() => decodeComponent(raw), raw);
    assert.equal(decodeComponent('%'), '%');
    assert.equal(decodeComponent('a%2'), 'a%2');
    assert.equal(decodeComponent('%E2%80'), '\ufffd');
  });
});

function urlBytes(url: string): Uint8Array {
  return new TextEncoder().encode(url);
}

describe('the cheap pre-test on URL bytes', () => {
  it('is true for every URL the extractor accepts', () => {
    for (const { name, host, rest, expected } of extractionCases) {
      if (!expected) continue;
      const bytes = urlBytes(`https://${host}${rest}`);
      assert.equal(mayBeSearch(bytes, 0, bytes.length), true, name);
    }
  });

  const notSearches = [
    'https://www.example.org/',
    'https://cdn.example.org/images/logo.png',
    'https://www.example.org/page?id=3&lang=en',
    'https://www.example.org/page?faq=1&qq=2',
    'https://www.example.org/search',
    'https://www.example.org/page#q=hidden',
    'https://www.example.org/page?x=a=q=b',
    'www.google.com:443',
  ];
  for (const url of notSearches)
    it(`lets ${url} skip the extractor`, () => {
      const bytes = urlBytes(url);
      assert.equal(mayBeSearch(bytes, 0, bytes.length), false);
    });

  it('looks only inside the URL field of a log line', () => {
    const line = '1700000000.000 10.0.0.5 TCP_MISS/200 GET https://www.example.org/page - https://ref.example/?q=elsewhere';
    const start = line.indexOf('https://');
    const end = line.indexOf(' -', start);
    const bytes = urlBytes(line);
    assert.equal(mayBeSearch(bytes, start, end), false);
    assert.equal(mayBeSearch(bytes, start, bytes.length), true);
  });

  it('reads parameter names exactly, as the extractor does', () => {
    for (const [url, expected] of [
      ['https://x.example/?q=a', true],
      ['https://x.example/?a=1&p=b', true],
      ['https://x.example/?search_query=a', true],
      ['https://x.example/?query=a', true],
      ['https://x.example/?text=a', true],
      ['https://x.example/?Q=a', false],
      ['https://x.example/?sq=a', false],
    ] as const) {
      const bytes = urlBytes(url);
      assert.equal(mayBeSearch(bytes, 0, bytes.length), expected, url);
    }
  });
});

describe('normalising text for matching', () => {
  const cases: Array<[string, string, string]> = [
    ['lower-cases and pads with one space each side', 'Volcano FACTS', ' volcano facts '],
    ['collapses white space', '  rain \t  forest  ', ' rain forest '],
    ['gives an empty string for text with no words', ' ?! 😀 ', ''],
    ['turns punctuation and symbols into spaces', 'fish&chips, please. (now)', ' fish chips please now '],
    ['turns emoji into spaces', 'sad😢face', ' sad face '],
    ['removes apostrophes instead of splitting words', "don’t can't won`t", ' dont cant wont '],
    ['strips diacritics', 'Crème Brûlée naïve', ' creme brulee naive '],
    ['spells out letters NFD keeps whole', 'Straße Øresund Łódź Æsop', ' strasse oresund lodz aesop '],
    ['folds full-width letters (NFKC)', 'ｓｅｌｆ　ｈａｒｍ', ' self harm '],
    ['folds ligatures and circled digits (NFKC)', 'ﬁre ①', ' fire 1 '],
    ['reads leetspeak in words with letters', 'h0w t0 k1ll mys3lf', ' how to kill myself '],
    ['reads 4, 5, 7, @ and $', 'h4te 5ad 7ime @nger $tress', ' hate sad time anger stress '],
    ['reads ! inside a word as i', 'k!ll', ' kill '],
    ['drops a leading or trailing !', 'help! !now', ' help now '],
    ['leaves numbers alone', 'year 5 in 2024 scored 100', ' year 5 in 2024 scored 100 '],
    ['drops symbols standing alone', '@ $ !', ''],
    ['joins spaced-out letters', 's u i c i d e', ' suicide '],
    ['joins dotted letters', 's.u.i.c.i.d.e', ' suicide '],
    ['joins dashed letters', 's-u-i-c-i-d-e', ' suicide '],
    ['joins a spaced word inside a sentence', 'i want to d i e now', ' i want to die now '],
    ['joins spaced leetspeak', '$ u 1 c 1 d e', ' suicide '],
    ['does not join two single letters', 'a b test', ' a b test '],
    ['does not join letters separated by commas', 'a, b, c', ' a b c '],
    ['collapses a letter repeated three or more times to one', 'diiiie sooooo', ' die so '],
    ['keeps doubled letters', 'kill too', ' kill too '],
    ['keeps a word of one repeated letter as three', 'KKKK zzz', ' kkk zzz '],
    ['keeps non-Latin letters', 'Привет мир', ' привет мир '],
  ];
  for (const [name, input, expected] of cases)
    it(name, () => {
      assert.equal(normaliseText(input), expected);
    });
});
