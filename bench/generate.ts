/**
 * The benchmarks' synthetic data: a small deterministic generator (xorshift), so every run builds the
 * same lists and logs, and the words and domains made from it.
 */

const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
const tlds = ['com', 'net', 'org', 'co.uk', 'io', 'info', 'xyz', 'de', 'fr', 'example'];

export function generator(seed = 0x9e3779b9) {
  let state = seed;
  /** 0 ≤ n < 1. */
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  /** 0 … n-1. */
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  /** A lower-case word of min … max letters and digits, starting with a letter. */
  const word = (min: number, max: number): string => {
    const length = min + int(max - min + 1);
    let text = '';
    for (let i = 0; i < length; i += 1) text += alphabet[int(i === 0 ? 26 : 36)];
    return text;
  };
  const tld = () => pick(tlds);
  return { random, int, pick, word, tld };
}
