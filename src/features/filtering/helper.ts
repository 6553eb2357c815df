import { createWriteStream, readFileSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { FilterEngine, loadSnapshot, type Decision } from './engine.js';

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
  /** Append every blocked request to this file in Haven's decision-log format (for monitoring). */
  decisionLog?: string | undefined;
  log?: (message: string) => void;
  /** For tests: the time decisions are made at. */
  now?: () => number;
}

export interface FieldPositions {
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

/** Set by parseIpv4Bytes: whether the last address parsed was a dotted IPv4 address. */
let ipv4Parsed = false;

/** A dotted IPv4 address in bytes → its int32 value (check ipv4Parsed); no allocation. */
function parseIpv4Bytes(bytes: Buffer, start: number, end: number): number {
  ipv4Parsed = false;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i += 1) {
    const code = bytes[i]!;
    if (code === 46) {
      if (digits === 0 || dots === 3) return 0;
      value = (value << 8) | part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (code >= 48 && code <= 57 && digits < 3) {
      part = part * 10 + (code - 48);
      if (part > 255) return 0;
      digits += 1;
    } else return 0;
  }
  if (dots !== 3 || digits === 0) return 0;
  ipv4Parsed = true;
  return (value << 8) | part;
}

/** A token as a string ("-" and empty as undefined); UTF-8, which Node decodes fastest for plain ASCII. */
function tokenText(bytes: Buffer, start: number, end: number): string | undefined {
  if (end <= start || (end - start === 1 && bytes[start] === 45)) return undefined;
  return bytes.toString('utf8', start, end);
}

/**
 * Answers the lines in `bytes[start, end)` (each ending in "\n") and returns the replies. Works on the
 * bytes as they arrive: tokens are found with native searches, and only the fields a decision needs
 * become strings.
 */
/** Called for each blocked request when decision logging is on (host only, never the full address). */
export type BlockLogger = (decision: Decision, ip: string | undefined, user: string | undefined, now: number) => void;

/** The replies for one read, written as bytes (most are the constant "ERR" or "OK"). */
class Replies {
  private buffer = Buffer.allocUnsafe(1 << 16);
  length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  bytes(source: Buffer, start: number, end: number): void {
    this.room(end - start);
    source.copy(this.buffer, this.length, start, end);
    this.length += end - start;
  }

  byte(value: number): void {
    this.room(1);
    this.buffer[this.length] = value;
    this.length += 1;
  }

  text(value: string): void {
    this.room(value.length * 3);
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  take(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * Answers the lines in `bytes[start, end)` (each ending in "\n") and returns the replies as bytes.
 * Works on the bytes as they arrive: tokens are found with native searches, and only the fields a
 * decision needs become strings.
 */
export function answerLines(
  engine: FilterEngine,
  mode: HelperMode,
  positions: FieldPositions,
  bytes: Buffer,
  start: number,
  end: number,
  now: number,
  onBlock?: BlockLogger,
): Buffer {
  const out = new Replies();
  const starts = new Int32Array(16);
  const ends = new Int32Array(16);
  const wanted = mode === 'rewrite' ? 4 : positions.count + 1;
  let lineStart = start;
  while (lineStart < end) {
    let lineEnd = bytes.indexOf(10, lineStart);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const next = lineEnd + 1;
    if (lineEnd > lineStart && bytes[lineEnd - 1] === 13) lineEnd -= 1;
    // The first few space-separated tokens (the channel ID, then the fields).
    let tokens = 0;
    let tokenStart = lineStart;
    while (tokens < wanted) {
      let space = bytes.indexOf(32, tokenStart);
      if (space === -1 || space > lineEnd) space = lineEnd;
      starts[tokens] = tokenStart;
      ends[tokens] = space;
      tokens += 1;
      if (space >= lineEnd) break;
      tokenStart = space + 1;
    }
    let first = 0;
    const firstLength = ends[0]! - starts[0]!;
    if (tokens > 1 && firstLength > 0 && firstLength < 10) {
      let digits = true;
      for (let i = starts[0]!; i < ends[0]!; i += 1) if (bytes[i]! < 48 || bytes[i]! > 57) digits = false;
      if (digits) {
        // The channel ID goes back first, as it came.
        out.bytes(bytes, starts[0]!, ends[0]!);
        out.byte(32);
        first = 1;
      }
    }
    let reply: string;
    try {
      reply =
        mode === 'rewrite'
          ? rewriteReply(engine, bytes, starts, ends, tokens, first, now, onBlock)
          : aclReply(engine, positions, bytes, starts, ends, tokens, first, now, onBlock);
    } catch (error) {
      reply = `BH message=${encodeURIComponent(error instanceof Error ? error.message : 'error')}`;
    }
    out.text(reply);
    out.byte(10);
    lineStart = next;
  }
  return out.take();
}

function rewriteReply(
  engine: FilterEngine,
  bytes: Buffer,
  starts: Int32Array,
  ends: Int32Array,
  tokens: number,
  first: number,
  now: number,
  onBlock: BlockLogger | undefined,
): string {
  if (first >= tokens || ends[first]! <= starts[first]!) return 'BH message=empty';
  const urlStart = starts[first]!;
  const urlEnd = ends[first]!;
  let clientStart = 0;
  let clientEnd = 0;
  if (first + 1 < tokens) {
    clientStart = starts[first + 1]!;
    clientEnd = ends[first + 1]!;
    const slash = bytes.indexOf(47, clientStart);
    if (slash !== -1 && slash < clientEnd) clientEnd = slash;
  }
  const user = first + 2 < tokens ? decodeField(tokenText(bytes, starts[first + 2]!, ends[first + 2]!)) : undefined;
  // An IPv4 client (the usual case) is looked up by number: no string is made for the address.
  const ipv4 = parseIpv4Bytes(bytes, clientStart, clientEnd);
  const policies = !ipv4Parsed
    ? engine.policiesForAddress(tokenText(bytes, clientStart, clientEnd), user)
    : user === undefined
      ? engine.policiesForIpv4(ipv4)
      : engine.policiesForUserIpv4(user, ipv4);
  const decision = engine.decideBytes(policies, bytes, urlStart, urlEnd, now);
  if (decision.rule === 'malformed') return 'BH message=malformed-url';
  if (decision.action === 'block') {
    onBlock?.(decision, tokenText(bytes, clientStart, clientEnd), user, now);
    return `OK status=302 url=${engine.blockPageFor(decision, now)}`;
  }
  if (decision.rewriteUrl) return `OK rewrite-url=${decision.rewriteUrl}`;
  return 'ERR';
}

function aclReply(
  engine: FilterEngine,
  positions: FieldPositions,
  bytes: Buffer,
  starts: Int32Array,
  ends: Int32Array,
  tokens: number,
  first: number,
  now: number,
  onBlock?: BlockLogger,
): string {
  if (tokens - first < positions.count) return `BH message=expected-${positions.count}-fields`;
  const field = (position: number) => (position >= 0 ? decodeField(tokenText(bytes, starts[first + position]!, ends[first + position]!)) : undefined);
  const target = field(positions.uri) ?? field(positions.dst);
  if (!target) return 'BH message=no-destination';
  const ip = field(positions.ip);
  const user = field(positions.user);
  const decision = engine.decideFor(engine.policiesForAddress(ip, user), target, now);
  if (decision.rule === 'malformed') return 'BH message=malformed-url';
  if (decision.action === 'block') {
    onBlock?.(decision, ip, user, now);
    return `ERR message=${decision.category ?? decision.rule} log=${decision.rule}`;
  }
  return 'OK';
}

/** Answers one line (without its newline): for tests. */
export function answerLine(engine: FilterEngine, mode: HelperMode, positions: FieldPositions, line: string, now: number): string {
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  return answerLines(engine, mode, positions, bytes, 0, bytes.length, now).toString('utf8').slice(0, -1);
}

export { positionsOf };

/** Runs a helper until its input ends. Resolves once every answer has been written. */
export async function runHelper(options: HelperOptions): Promise<void> {
  const log = options.log ?? ((message: string) => process.stderr.write(`haven filter-helper: ${message}\n`));
  const positions = positionsOf(options.format ?? defaultAclFormat);
  const load = () => loadSnapshot(readFileSync(options.snapshotPath));
  const engine = new FilterEngine(load());
  // A new snapshot is a new file renamed into place: its inode (and time and size) change.
  const identity = () => {
    const stat = statSync(options.snapshotPath);
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  };
  let loadedAt = identity();
  const reloadMs = options.reloadMs ?? 2000;
  const check = () => {
    try {
      const mtime = identity();
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
  // Haven's decision log: one tab-separated line per block — time, client address, user, group,
  // action, category, rule, host, snapshot. The host only: never the full address or query.
  const logStream = options.decisionLog ? createWriteStream(options.decisionLog, { flags: 'a' }) : null;
  const clean = (value: string | undefined | null) => (value ? value.replace(/[\t\r\n]/g, ' ') : '-');
  const onBlock: BlockLogger | undefined = logStream
    ? (decision, ip, user, at) =>
        void logStream.write(
          `${new Date(at).toISOString()}\t${clean(ip)}\t${clean(user)}\t${decision.group}\tblock\t${clean(decision.category)}\t${decision.rule}\t${clean(decision.host)}\t${decision.snapshot}\n`,
        )
    : undefined;
  let pending: Buffer | null = null;
  await new Promise<void>((resolve, reject) => {
    const answer = (chunk: Buffer | null) => {
      let bytes = chunk ?? Buffer.alloc(0);
      if (pending) bytes = Buffer.concat([pending, bytes]);
      pending = null;
      // Whole lines now; a partial last line waits for the next chunk (or the end of input).
      let upTo = bytes.lastIndexOf(10) + 1;
      if (chunk === null) upTo = bytes.length;
      if (upTo < bytes.length) pending = bytes.subarray(upTo);
      if (upTo === 0) return;
      const replies = answerLines(engine, options.mode, positions, bytes, 0, upTo, now(), onBlock);
      if (replies.length > 0) options.output.write(replies);
    };
    options.input.on('data', (chunk: Buffer) => answer(chunk));
    options.input.on('end', () => {
      answer(null);
      resolve();
    });
    options.input.on('error', reject);
  });
  clearInterval(timer);
  if (logStream) await new Promise((done) => logStream.end(done));
}
