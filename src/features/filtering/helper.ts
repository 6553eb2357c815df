import { readFileSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { FilterEngine, loadSnapshot, type Who } from './engine.js';

/**
 * Squid helpers over the engine (no database, no HTTP):
 *
 * - `acl`, for `external_acl_type`: each line carries the fields of the configured format (default
 *   `%>a %un %DST %URI`); the reply is `OK` (allowed) or `ERR message=<category> log=<rule>`.
 * - `rewrite`, for `url_rewrite_program`: each line is `URL extras` (Squid's default extras are
 *   `%>a/%>A %un %>rm myip=%la myport=%lp`); the reply is `OK status=302 url=<block page>` for a
 *   block, `OK rewrite-url=<url>` to force SafeSearch, or `ERR` to leave the request alone.
 *
 * With `concurrency=N` in squid.conf, Squid puts a channel ID first on each line and expects it back
 * first on the reply; it is detected per line (an all-digit first token). A line the helper cannot
 * read gets `BH message=...` (Squid's "broken helper" answer for that one request), never a crash.
 * The snapshot file is checked for changes every `reloadMs` and swapped in between two lines.
 */

export type HelperMode = 'acl' | 'rewrite';

export const defaultAclFormat = '%>a %un %DST %URI';

export interface HelperOptions {
  mode: HelperMode;
  snapshotPath: string;
  input: Readable;
  output: Writable;
  /** external_acl_type format: the order of fields on each line. */
  format?: string;
  reloadMs?: number;
  log?: (message: string) => void;
  /** For tests: the time decisions are made at. */
  now?: () => number;
}

interface FieldPositions {
  ip: number;
  user: number;
  dst: number;
  uri: number;
  count: number;
}

function positionsOf(format: string): FieldPositions {
  const tokens = format.trim().split(/\s+/);
  const find = (...names: string[]) => tokens.findIndex((token) => names.includes(token));
  const positions = {
    ip: find('%>a', '%SRC'),
    user: find('%un', '%LOGIN', '%EXT_USER', '%ul', '%ue'),
    dst: find('%DST', '%>rd'),
    uri: find('%URI', '%>ru', '%ru'),
    count: tokens.length,
  };
  if (positions.dst === -1 && positions.uri === -1) throw new Error(`The helper format "${format}" needs %DST or %URI`);
  return positions;
}

function decodeField(value: string | undefined): string | undefined {
  if (value === undefined || value === '-' || value === '') return undefined;
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Answers one line (without its newline); exported for tests and the benchmark. */
export function answerLine(engine: FilterEngine, mode: HelperMode, positions: FieldPositions, line: string, now: number): string {
  let tokens = line.split(' ');
  let channel = '';
  const first = tokens[0] ?? '';
  if (first.length > 0 && first.length < 10 && /^\d+$/.test(first) && tokens.length > 1) {
    channel = `${first} `;
    tokens = tokens.slice(1);
  }
  if (mode === 'rewrite') {
    const url = tokens[0];
    if (!url) return `${channel}BH message=empty`;
    const clientField = tokens[1] ?? '';
    const slash = clientField.indexOf('/');
    const who: Who = { ip: slash === -1 ? clientField : clientField.slice(0, slash), user: decodeField(tokens[2]) };
    const decision = engine.decide(who, url, now);
    if (decision.rule === 'malformed') return `${channel}BH message=malformed-url`;
    if (decision.action === 'block') return `${channel}OK status=302 url=${engine.blockPageFor(decision, now)}`;
    if (decision.rewriteUrl) return `${channel}OK rewrite-url=${decision.rewriteUrl}`;
    return `${channel}ERR`;
  }
  if (tokens.length < positions.count) return `${channel}BH message=expected-${positions.count}-fields`;
  const target = (positions.uri >= 0 ? decodeField(tokens[positions.uri]) : undefined) ?? (positions.dst >= 0 ? decodeField(tokens[positions.dst]) : undefined);
  if (!target) return `${channel}BH message=no-destination`;
  const who: Who = { ip: positions.ip >= 0 ? tokens[positions.ip] : undefined, user: positions.user >= 0 ? decodeField(tokens[positions.user]) : undefined };
  const decision = engine.decide(who, target, now);
  if (decision.rule === 'malformed') return `${channel}BH message=malformed-url`;
  if (decision.action === 'block') return `${channel}ERR message=${decision.category ?? decision.rule} log=${decision.rule}`;
  return `${channel}OK`;
}

/** Runs a helper until its input ends. Resolves once every answer has been written. */
export async function runHelper(options: HelperOptions): Promise<void> {
  const log = options.log ?? ((message: string) => process.stderr.write(`haven filter-helper: ${message}\n`));
  const positions = positionsOf(options.format ?? defaultAclFormat);
  const load = () => loadSnapshot(readFileSync(options.snapshotPath));
  const engine = new FilterEngine(load());
  let loadedAt = statSync(options.snapshotPath).mtimeMs;
  const reloadMs = options.reloadMs ?? 2000;
  const check = () => {
    try {
      const mtime = statSync(options.snapshotPath).mtimeMs;
      if (mtime === loadedAt) return;
      const next = load();
      engine.swap(next);
      loadedAt = mtime;
      log(`loaded snapshot ${next.version}`);
    } catch (error) {
      // Keep answering from the snapshot in hand; try again at the next check.
      log(`could not load a new snapshot (${error instanceof Error ? error.message : String(error)}); still using ${engine.version}`);
    }
  };
  const timer = setInterval(check, reloadMs);
  timer.unref();
  const now = options.now ?? Date.now;
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    const answer = (text: string, final: boolean) => {
      const lines = (pending + text).split('\n');
      pending = final ? '' : (lines.pop() ?? '');
      if (final && lines.at(-1) === '') lines.pop();
      if (lines.length === 0) return;
      const at = now();
      let out = '';
      for (const raw of lines) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        let reply: string;
        try {
          reply = answerLine(engine, options.mode, positions, line, at);
        } catch (error) {
          reply = `BH message=${encodeURIComponent(error instanceof Error ? error.message : 'error')}`;
        }
        out += `${reply}\n`;
      }
      options.output.write(out);
    };
    options.input.setEncoding('utf8');
    options.input.on('data', (chunk: string) => answer(chunk, false));
    options.input.on('end', () => {
      answer('', true);
      resolve();
    });
    options.input.on('error', reject);
  });
  clearInterval(timer);
}
