import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { FilterEngine, loadSnapshot } from '../filtering/engine.js';
import { LineSplitter, type LogFormat } from './parse.js';
import { parsePhraseList, PhraseMatcher } from './phrases.js';
import { readFrom } from './read.js';
import { Pipeline, type Drained, type KnownUser, type PipelineCounts } from './pipeline.js';
import { trafficBuffers } from './traffic.js';

/**
 * The reading half of a one-shot file ingest, on its own thread (DESIGN.md "Monitoring pipeline"):
 * it reads the file, runs every line through the pipeline and hands each batch to the main thread,
 * which stores it in one transaction while this thread reads on. At most two batches wait to be
 * stored, so memory stays bounded; nothing is stored here, so a crash of either thread loses only
 * what was not yet committed, and the next run resumes from the source's stored position.
 */

export interface IngestWorkerInput {
  kind?: typeof workerKind;
  format: LogFormat;
  path: string;
  gzip: boolean;
  /** Where the source's stored lines end: a plain file is read from here, a gzip one skips to it. */
  source: { lines: number; byteOffset: number };
  linesPerBatch: number;
  snapshotPath: string;
  phraseList: string;
  timeZone: string;
  users: Array<[string, KnownUser]>;
  thresholds: Record<string, number>;
  defaultThreshold: number;
  watchedCategories: Record<string, number>;
}

export type IngestWorkerMessage =
  { type: 'batch'; taken: Drained; byteOffset: number; lines: number } | { type: 'done'; counts: PipelineCounts; skipped: number };

/** From the main thread: `stored` once a batch is committed; `stop` to finish after the current batch. */
export type IngestWorkerCommand = { type: 'stored' } | { type: 'stop' };

async function run(input: IngestWorkerInput, port: NonNullable<typeof parentPort>): Promise<void> {
  const pipeline = new Pipeline({
    format: input.format,
    engine: new FilterEngine(loadSnapshot(readFileSync(input.snapshotPath))),
    matcher: new PhraseMatcher(parsePhraseList(input.phraseList).entries),
    timeZone: input.timeZone,
    users: new Map(input.users),
    thresholds: input.thresholds,
    defaultThreshold: input.defaultThreshold,
    watchedCategories: input.watchedCategories,
  });
  let stopping = false;
  let waiting = 0;
  let release: (() => void) | null = null;
  port.on('message', (command: IngestWorkerCommand) => {
    if (command.type === 'stop') stopping = true;
    else {
      waiting -= 1;
      release?.();
      release = null;
    }
  });

  const { source } = input;
  let skipped = 0;
  let lastOffset = source.byteOffset;
  let lastLine = source.lines;
  let sentLines = source.lines;
  let pending = 0;
  const splitter = new LineSplitter(
    (bytes, start, end, lineNumber, offsetAfter) => {
      if (offsetAfter <= source.byteOffset) {
        skipped += 1;
        return;
      }
      pipeline.push(bytes, start, end, lineNumber);
      lastOffset = offsetAfter;
      lastLine = lineNumber;
      pending += 1;
    },
    input.gzip ? 0 : source.lines,
    input.gzip ? 0 : source.byteOffset,
  );
  const send = async () => {
    if (lastLine === sentLines) return;
    // Up to two batches may wait to be stored while the next is read (so the storing thread always
    // has the next one in hand); a third waits.
    while (waiting >= 2) await new Promise<void>((resolve) => (release = resolve));
    const message: IngestWorkerMessage = { type: 'batch', taken: pipeline.drain(), byteOffset: lastOffset, lines: lastLine };
    waiting += 1;
    // The traffic columns move to the storing thread rather than being copied.
    port.postMessage(message, trafficBuffers(message.taken.traffic));
    sentLines = lastLine;
    pending = 0;
  };

  if (input.gzip) {
    const stream = createReadStream(input.path).pipe(createGunzip());
    let damaged = false;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        splitter.push(chunk);
        if (pending >= input.linesPerBatch) await send();
        if (stopping) break;
      }
    } catch {
      damaged = true; // zlib: the archive ends early or is corrupt
    }
    stream.destroy();
    if (!stopping && !damaged) splitter.flush();
    if (damaged) pipeline.note(splitter.lineNumber + 1, 'the compressed file is damaged or cut short: the lines before this were read');
  } else {
    // A last line without its newline waits: it may still be being written.
    const file = await open(input.path, 'r');
    try {
      await readFrom(file, source.byteOffset, async (chunk) => {
        splitter.push(chunk);
        if (pending >= input.linesPerBatch) await send();
        return stopping;
      });
    } finally {
      await file.close();
    }
  }
  await send();
  while (waiting >= 1) await new Promise<void>((resolve) => (release = resolve));
  const counts: PipelineCounts = {
    lines: pipeline.lines,
    bad: pipeline.bad,
    events: pipeline.events,
    searches: pipeline.searches,
    blocked: pipeline.blocked,
    badSamples: pipeline.badSamples,
  };
  const done: IngestWorkerMessage = { type: 'done', counts, skipped };
  port.postMessage(done);
  port.close();
}

const workerKind = 'haven-ingest';

/**
 * Starts the worker. From TypeScript source (tests, `tsx`) the worker registers tsx first: a worker
 * does not inherit the loader its parent was started with.
 */
export function startIngestWorker(input: IngestWorkerInput): Worker {
  const data = { ...input, kind: workerKind };
  if (import.meta.url.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    return new Worker(code, { eval: true, workerData: data });
  }
  return new Worker(new URL(import.meta.url), { workerData: data });
}

if (!isMainThread && parentPort && (workerData as IngestWorkerInput | undefined)?.kind === workerKind) await run(workerData as IngestWorkerInput, parentPort);
