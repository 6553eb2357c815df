import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { SchoolSettings } from '../schools/service.js';

function scrypt(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** scrypt cost as log2(N). 16 in production (64 MiB); tests may pass a lower cost. */
export interface PasswordHasherOptions {
  cost: number;
}

/** Stored as scrypt$logN$r$p$salt$hash so the cost can rise later without breaking old hashes. */
export function createPasswordHasher(options: PasswordHasherOptions) {
  return {
    async hash(password: string): Promise<string> {
      const salt = randomBytes(16);
      const N = 2 ** options.cost;
      const key = await scrypt(password, salt, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 });
      return ['scrypt', options.cost, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
    },
    async verify(password: string, stored: string): Promise<boolean> {
      const [scheme, logN, r, p, salt, expected] = stored.split('$');
      if (scheme !== 'scrypt' || !logN || !r || !p || !salt || !expected) return false;
      const N = 2 ** Number(logN);
      const expectedKey = Buffer.from(expected, 'base64');
      const key = await scrypt(password, Buffer.from(salt, 'base64'), expectedKey.length, { N, r: Number(r), p: Number(p), maxmem: 256 * N * Number(r) });
      return timingSafeEqual(key, expectedKey);
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

// A short deny list of the passwords most often seen in breaches (NCSC's top-100 style list).
const commonPasswords = new Set(
  `123456 123456789 12345678 password qwerty123 qwerty1 111111 12345 secret 123123 1234567890 1234567 000000 qwerty
  abc123 password1 iloveyou 11111111 dragon monkey 123321 654321 666666 121212 football baseball letmein welcome
  passw0rd password123 admin admin123 login princess sunshine shadow master superman trustno1 whatever starwars
  liverpool chelsea arsenal everton qwertyuiop 1q2w3e4r 1qaz2wsx zaq12wsx asdfghjkl azerty 987654321 changeme
  welcome1 welcome123 school school123 teacher teacher123 summer2024 winter2024 spring2025 autumn2025 password2025
  password2026 september 123qwe charlie michael jennifer jordan hunter ashley killer pepper daniel hannah thomas
  computer internet freedom flower cookie hello123 letmein123 access biteme matrix mustang yankees tigger
  000000000 1111111111 12341234 11223344 abcd1234 aa123456 qwe123 zxcvbnm 7777777 88888888 999999999 pass1234
  passwordpassword iloveyou1 lovely football1 princess1 monkey1 abc12345 q1w2e3r4 haven haven123`.split(/\s+/),
);

export interface PasswordCheckContext {
  email?: string | undefined;
  schoolName?: string | undefined;
}

/** The school's password rules; returns a message for each rule the password breaks. */
export function checkPasswordRules(password: string, settings: SchoolSettings, context: PasswordCheckContext = {}): string[] {
  const problems: string[] = [];
  if (password.length < settings.passwordMinLength) {
    problems.push(`Password must be at least ${settings.passwordMinLength} characters`);
  }
  if (password.length > 200) problems.push('Password must be 200 characters or fewer');
  if (settings.passwordDenyCommon) {
    const lowered = password.toLowerCase();
    const local = context.email?.split('@')[0]?.toLowerCase();
    if (commonPasswords.has(lowered) || commonPasswords.has(lowered.replace(/[0-9!?.]+$/, ''))) {
      problems.push('Password is too common: choose something harder to guess, such as three random words');
    } else if (local && local.length >= 4 && lowered.includes(local)) {
      problems.push('Password must not contain your email address');
    } else if (context.schoolName && lowered.replace(/\s/g, '').includes(context.schoolName.toLowerCase().replace(/\s/g, ''))) {
      problems.push('Password must not contain the school name');
    } else if (/^(.)\1+$/.test(password)) {
      problems.push('Password must not be one character repeated');
    }
  }
  return problems;
}
