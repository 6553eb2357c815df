import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Every setting Haven reads from the environment, documented once here.
 * Development defaults are allowed only outside production.
 */
const environmentSchema = z.object({
  /** TCP port the web server listens on. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Address to bind; 127.0.0.1 by default so a development server is not exposed. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Folder for the SQLite database, backups, encrypted files and filter snapshots. */
  HAVEN_DATA_DIR: z.string().min(1).default('./data'),
  /** A postgres:// URL selects PostgreSQL; unset means embedded SQLite in HAVEN_DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Instance secret (at least 32 characters); session and file-encryption keys derive from it. */
  HAVEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** The address people use to reach Haven, for links in emails and letters. */
  PUBLIC_URL: z.string().url('must be a full URL such as https://haven.example.sch.uk').optional(),
  /** smtp:// or smtps:// URL; unset means mail goes to the outbox table for administrators to read. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  /** Sender address for mail. */
  MAIL_FROM: z.string().min(3).default('Haven <haven@localhost>'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Log level for the server log (never contains safeguarding details). */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Environment = z.infer<typeof environmentSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  secret: string;
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  env: Environment['NODE_ENV'];
  logLevel: Environment['LOG_LEVEL'];
  /** True when Haven is served over HTTPS, so cookies are marked Secure. */
  secureCookies: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const values = parsed.data;
  const production = values.NODE_ENV === 'production';
  if (production && !values.HAVEN_SECRET) {
    throw new ConfigError('Invalid configuration:\n  HAVEN_SECRET: required in production (generate one with: openssl rand -hex 32)');
  }
  if (production && !values.PUBLIC_URL) {
    throw new ConfigError('Invalid configuration:\n  PUBLIC_URL: required in production (the https:// address people use to reach Haven)');
  }
  const dataDir = resolve(values.HAVEN_DATA_DIR);
  const publicUrl = values.PUBLIC_URL ?? `http://localhost:${values.PORT}`;
  return {
    port: values.PORT,
    host: values.HOST,
    dataDir,
    databaseUrl: values.DATABASE_URL,
    secret: values.HAVEN_SECRET ?? developmentSecret(dataDir),
    publicUrl: publicUrl.replace(/\/$/, ''),
    smtpUrl: values.SMTP_URL,
    mailFrom: values.MAIL_FROM,
    env: values.NODE_ENV,
    logLevel: values.LOG_LEVEL,
    secureCookies: publicUrl.startsWith('https://'),
  };
}

/** Outside production, a random secret is made once and kept in the data directory. */
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'development-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
