/**
 * The forwarder's contract, tested once for every destination, with a scripted destination and
 * an in-memory reader in virtual time: time moves only when the forwarder sleeps, by exactly
 * what it asked for, so backoff, Retry-After and lingering are asserted to the millisecond.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetter } from '../../../src/sinks/dead-letter.js';
import type { Destination, Encoded, Failure, Item, RejectedRecord } from '../../../src/sinks/destination.js';
import { Forwarder, type ForwarderOptions, type Sleep } from '../../../src/sinks/forwarder.js';
import type { SpoolEntry, SpoolPosition } from '../../../src/spool/types.js';
import { captureLogs } from './capture-log.js';
import { MemoryReader } from './memory-reader.js';
import { until } from '../../support/wait.js';

const T0 = 1_700_000_000_000;

interface FakeItem extends Item {
  readonly text: string;
}

/** What the scripted destination does with send number `n` (from 1) of `texts`. */
type Answer = 'ok' | 'hang' | Failure | Promise<void>;

class ScriptedFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.reason);
  }
}

/**
 * A destination whose records are texts: `x…` is an item, `-…` is not its business (passed
 * over), `!…` cannot be encoded. Each send is answered by the test's script.
 */
class FakeDestination implements Destination<FakeItem> {
  readonly logs = {
    retrying: 'fake: send failed; retrying',
    config: (status: number | undefined, setting: string) => `fake: refused (${status}); check ${setting}`,
    refused: 'fake: refused for good; dead-lettering',
    unencodable: 'fake: cannot encode; setting aside',
    recovered: 'fake: recovered',
  };
  readonly logFields = { endpoint: 'fake://destination' };
  urgent = false;
  /** Every send: its items, and the reader's committed position when it was made. */
  readonly sends: Array<{ texts: string[]; committedSeq: number }> = [];
  /** Items confirmed, in order. */
  readonly confirmed: string[] = [];

  constructor(
    private readonly reader: MemoryReader,
    public answer: (texts: string[], n: number) => Answer = () => 'ok',
  ) {}

  encode(entries: readonly SpoolEntry[]): Encoded<FakeItem> {
    const items: FakeItem[] = [];
    const rejected: RejectedRecord[] = [];
    for (const { seq, payload } of entries) {
      const text = payload.toString();
      if (text.startsWith('x')) items.push({ seq, text });
      else if (text.startsWith('!')) rejected.push({ seq, raw: text, reason: 'cannot encode' });
    }
    return { items, rejected };
  }

  async send(items: readonly FakeItem[], signal: AbortSignal): Promise<void> {
    const texts = items.map((i) => i.text);
    const n = this.sends.push({ texts, committedSeq: this.reader.committedSeq });
    const answer = this.answer(texts, n);
    if (answer === 'hang') {
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    } else if (answer instanceof Promise) {
      await answer;
    } else if (answer !== 'ok') {
      throw new ScriptedFailure(answer);
    }
    this.confirmed.push(...texts);
  }

  classify(err: unknown): Failure {
    return err instanceof ScriptedFailure ? err.failure : { kind: 'retry', reason: String(err) };
  }

  letter(item: FakeItem): string {
    return item.text;
  }
}

/** The fake with a connection: refuses the first `refusals` attempts; the test can drop it. */
class ConnectingDestination extends FakeDestination {
  attempts = 0;
  refusals = 0;
  #connection: AbortController | undefined;

  async connect(): Promise<AbortSignal> {
    if (this.#connection && !this.#connection.signal.aborted) return this.#connection.signal;
    this.attempts += 1;
    if (this.attempts <= this.refusals) throw new Error('ECONNREFUSED');
    this.#connection = new AbortController();
    return this.#connection.signal;
  }

  drop(): void {
    this.#connection?.abort(new Error('connection lost'));
  }
}

/** A reader whose next `failures` commits fail, as a full or failing disk would. */
class FlakyReader extends MemoryReader {
  failures = 0;
  override async commit(pos: SpoolPosition): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('EIO: i/o error, write');
    }
    await super.commit(pos);
  }
}

interface Harness {
  forwarder: Forwarder<FakeItem>;
  reader: MemoryReader;
  destination: FakeDestination;
  /** Virtual epoch ms: moves only when the forwarder sleeps. */
  clock: { now: number };
  /** Each sleep: its delay and the reader's committed position at that moment. */
  sleeps: Array<{ ms: number; committedSeq: number }>;
  logs: Array<Record<string, unknown>>;
  deadLetterPath: string;
  append(...texts: string[]): void;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  opts: Partial<ForwarderOptions<FakeItem>> & { destination?: FakeDestination; reader?: MemoryReader } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-forwarder-'));
  const reader = opts.reader ?? new MemoryReader();
  const destination = opts.destination ?? new FakeDestination(reader);
  const clock = { now: T0 };
  const sleeps: Harness['sleeps'] = [];
  const { logger, logs } = captureLogs();
  const sleep: Sleep = async (ms, signal) => {
    sleeps.push({ ms, committedSeq: reader.committedSeq });
    if (!signal.aborted) clock.now += ms;
    await new Promise((r) => setImmediate(r));
  };
  const deadLetterPath = join(dir, 'dead', 'fake.jsonl');
  const forwarder = new Forwarder<FakeItem>({
    destination,
    reader,
    deadLetterPath,
    readSize: 100,
    stopTimeoutMs: 60_000,
    minBackoffMs: 100,
    maxBackoffMs: 5000,
    random: () => 0.5,
    now: () => clock.now,
    sleep,
    logger,
    ...opts,
  });
  cleanups.push(async () => {
    await forwarder.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const append = (...texts: string[]): void => reader.appendRaw(...texts.map((t) => Buffer.from(t)));
  return { forwarder, reader, destination, clock, sleeps, logs, deadLetterPath, append };
}

const xs = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `x${from + i}`);
const deadLetters = async (path: string): Promise<DeadLetter[]> =>
  (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as DeadLetter);
const logged = (h: Harness, msg: string): Array<Record<string, unknown>> => h.logs.filter((l) => l.msg === msg);

describe('Forwarder: order and the cursor', () => {
  it('sends in spool order, a send per read, and commits each batch only after its send is confirmed', async () => {
    const h = await setup({ readSize: 5 });
    h.append(...xs(1, 12));
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 13, 'every commit');
    expect(h.destination.sends).toEqual([
      { texts: xs(1, 5), committedSeq: 1 },
      { texts: xs(6, 10), committedSeq: 6 },
      { texts: xs(11, 12), committedSeq: 11 },
    ]);
    expect(h.reader.commits.map((c) => c.seq)).toEqual([6, 11, 13]);
    expect(h.forwarder.stats()).toMatchObject({ batches: 3, sent: 12, retries: 0, failures: 0, deadLetters: 0, lagRecords: 0, lastSuccessAt: T0 });
  });

  it('commits past records that hold nothing for the destination, and picks up records appended while idle', async () => {
    const h = await setup();
    h.forwarder.start();
    await until(() => h.forwarder.stats().state === 'idle', 'idle');
    h.append('-1', 'x2', '-3');
    await until(() => h.reader.committedSeq === 4, 'commit');
    expect(h.destination.sends.map((s) => s.texts)).toEqual([['x2']]);
    h.append('-4');
    await until(() => h.reader.committedSeq === 5, 'commit past a record with no item');
    expect(h.destination.sends).toHaveLength(1);
  });

  it('cuts a read after maxItems items, so each send is followed by its own commit', async () => {
    const h = await setup({ maxItems: 2 });
    h.append('x1', '-2', 'x3', 'x4', '-5', 'x6', 'x7');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 8, 'every commit');
    expect(h.destination.sends.map((s) => s.texts)).toEqual([['x1', 'x3'], ['x4', 'x6'], ['x7']]);
    expect(h.reader.commits.map((c) => c.seq)).toEqual([4, 7, 8]);
  });

  it('lets a partial read linger once for lingerMs, so a trickle goes out once an interval', async () => {
    const h = await setup({ readSize: 5, lingerMs: 1000 });
    h.append('x1');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 2, 'first commit');
    expect(h.sleeps).toEqual([]);
    h.clock.now += 300;
    h.append('x2', 'x3');
    await until(() => h.reader.committedSeq === 4, 'second commit');
    expect(h.sleeps).toEqual([{ ms: 700, committedSeq: 2 }]);
    expect(h.destination.sends.map((s) => s.texts)).toEqual([['x1'], ['x2', 'x3']]);
    h.append(...xs(4, 8));
    await until(() => h.reader.committedSeq === 9, 'a full read, at once');
    expect(h.sleeps).toHaveLength(1);
  });

  it('does not make urgent items linger, only reads with nothing to send', async () => {
    const reader = new MemoryReader();
    const destination = new FakeDestination(reader);
    destination.urgent = true;
    const h = await setup({ lingerMs: 1000, destination, reader });
    h.append('x1');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 2, 'first commit');
    h.append('x2');
    await until(() => h.reader.committedSeq === 3, 'an urgent item at once');
    expect(h.sleeps).toEqual([]);
    h.append('-3');
    await until(() => h.reader.committedSeq === 4, 'a record with nothing to send, after the linger');
    expect(h.sleeps).toEqual([{ ms: 1000, committedSeq: 3 }]);
  });
});

describe('Forwarder: retries', () => {
  it('sends the same items again after full-jitter exponential backoff, the cursor unmoved until confirmed', async () => {
    const h = await setup();
    h.destination.answer = (_t, n) => (n <= 4 ? { kind: 'retry', reason: `busy ${n}`, status: 503 } : 'ok');
    h.append('x1', 'x2');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 3, 'commit');
    // random 0.5 of min(5000, 100 · 2^attempt)
    expect(h.sleeps).toEqual([50, 100, 200, 400].map((ms) => ({ ms, committedSeq: 1 })));
    expect(h.destination.sends.map((s) => s.texts)).toEqual(Array.from({ length: 5 }, () => ['x1', 'x2']));
    expect(h.reader.commits).toHaveLength(1);
    expect(h.forwarder.stats()).toMatchObject({ retries: 4, failures: 4, sent: 2, lastError: 'busy 4' });
  });

  it('waits at least the Retry-After the destination asked for, or the jitter when that is longer', async () => {
    const h = await setup();
    const asked = [3000, 10];
    h.destination.answer = (_t, n) => (n <= asked.length ? { kind: 'retry', reason: '429', status: 429, retryAfterMs: asked[n - 1] } : 'ok');
    h.append('x1');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 2, 'commit');
    // attempt 0: max(50, 3000); attempt 1: max(100, 10)
    expect(h.sleeps.map((s) => s.ms)).toEqual([3000, 100]);
  });

  it('on a wrong setting keeps the data, names the setting once, and retries at the longest backoff until fixed', async () => {
    const h = await setup();
    let fixed = false;
    h.destination.answer = () => (fixed ? 'ok' : { kind: 'config', reason: 'HTTP 401: unauthorized', status: 401, setting: 'fake.token' });
    h.append('x1', 'x2');
    h.forwarder.start();
    await until(() => h.sleeps.length >= 3, 'three retries');
    expect(h.reader.commits).toHaveLength(0);
    expect(h.forwarder.stats().lagRecords).toBe(2);
    fixed = true;
    await until(() => h.reader.committedSeq === 3, 'commit once the setting is fixed');
    expect(h.sleeps.every((s) => s.ms === 5000 && s.committedSeq === 1)).toBe(true);
    expect(existsSync(h.deadLetterPath)).toBe(false);
    const errors = h.logs.filter((l) => l.level === 50);
    expect(errors).toEqual([expect.objectContaining({ msg: 'fake: refused (401); check fake.token', status: 401, setting: 'fake.token', endpoint: 'fake://destination' })]);
  });

  it('logs one line when an outage starts, another only when its condition changes, and one when it recovers', async () => {
    const h = await setup();
    const statuses = [500, 500, 503, 503];
    h.destination.answer = (_t, n) => (n <= statuses.length ? { kind: 'retry', reason: 'down', status: statuses[n - 1] } : 'ok');
    h.append('x1');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 2, 'commit');
    expect(logged(h, 'fake: send failed; retrying').map((l) => l.status)).toEqual([500, 503]);
    expect(logged(h, 'fake: recovered')).toMatchObject([{ after: 'retry:503', lagRecords: 0 }]);

    // a second outage is a new condition: one line again, one recovery again
    h.destination.answer = (_t, n) => (n <= 7 ? { kind: 'retry', reason: 'refused connection' } : 'ok');
    h.append('x2');
    await until(() => h.reader.committedSeq === 3, 'second commit');
    expect(logged(h, 'fake: send failed; retrying').map((l) => l.status)).toEqual([500, 503, undefined]);
    expect(logged(h, 'fake: recovered').map((l) => l.after)).toEqual(['retry:503', 'retry:network']);
  });
});

describe('Forwarder: refusals and dead letters', () => {
  it('bisects a refused batch down to the refused item, dead-letters it with status and reason, and sends the rest', async () => {
    const h = await setup();
    h.destination.answer = (texts) => (texts.includes('x5') ? { kind: 'refused', reason: 'HTTP 400: unable to parse', status: 400 } : 'ok');
    h.append(...xs(1, 8));
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 9, 'commit');
    const letters = await deadLetters(h.deadLetterPath);
    expect(letters).toEqual([{ ts: T0, status: 400, reason: 'HTTP 400: unable to parse', line: 'x5', seq: 5 }]);
    expect([...h.destination.confirmed].sort()).toEqual(xs(1, 8).filter((x) => x !== 'x5').sort());
    // one full try, then at most two halves per level of a 3-level bisection
    expect(h.destination.sends.length).toBeLessThanOrEqual(7);
    expect(h.sleeps).toEqual([]);
    expect(logged(h, 'fake: refused for good; dead-lettering')).toMatchObject([{ count: 1, firstSeq: 5, status: 400 }]);
    expect(h.forwarder.stats()).toMatchObject({ deadLetters: 1, retries: 0, batches: 1 });
  });

  it('dead-letters records that cannot be encoded, with no status, and sends the others', async () => {
    const h = await setup();
    h.append('x1', '!2', 'x3');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 4, 'commit');
    expect(await deadLetters(h.deadLetterPath)).toEqual([{ ts: T0, status: null, reason: 'cannot encode', line: '!2', seq: 2 }]);
    expect(h.destination.sends.map((s) => s.texts)).toEqual([['x1', 'x3']]);
    expect(logged(h, 'fake: cannot encode; setting aside')).toMatchObject([{ count: 1, firstSeq: 2 }]);
    expect(h.forwarder.stats()).toMatchObject({ deadLetters: 1, unencodable: 1 });
  });

  it('without a dead-letter file refuses nothing for good: a refusal is retried, an unencodable record logged and passed over', async () => {
    const h = await setup({ deadLetterPath: undefined });
    h.destination.answer = (_t, n) => (n === 1 ? { kind: 'refused', reason: 'no' } : 'ok');
    h.append('x1', '!2');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 3, 'commit');
    expect(h.destination.confirmed).toEqual(['x1']);
    expect(h.sleeps).toHaveLength(1);
    expect(existsSync(h.deadLetterPath)).toBe(false);
    expect(h.forwarder.stats()).toMatchObject({ deadLetters: 0, unencodable: 1, retries: 1 });
  });

  it('a commit that fails is retried from the same records after backoff, logged once, and nothing is lost', async () => {
    const reader = new FlakyReader();
    reader.failures = 2;
    const h = await setup({ reader });
    h.append('x1', 'x2');
    h.forwarder.start();
    await until(() => reader.committedSeq === 3, 'commit');
    expect(h.destination.sends.map((s) => s.texts)).toEqual([['x1', 'x2'], ['x1', 'x2'], ['x1', 'x2']]);
    expect(h.sleeps).toEqual([{ ms: 50, committedSeq: 1 }, { ms: 100, committedSeq: 1 }]);
    expect(logged(h, 'spool or dead-letter I/O failed; will retry the batch')).toHaveLength(1);
    expect(logged(h, 'fake: recovered')).toHaveLength(1);
    expect(h.forwarder.stats()).toMatchObject({ batches: 1, failures: 2, lastError: 'EIO: i/o error, write' });
  });
});

describe('Forwarder: stop', () => {
  it('lets the send in flight finish and commits it', async () => {
    const h = await setup();
    let confirm!: () => void;
    h.destination.answer = () => new Promise<void>((r) => (confirm = r));
    h.append('x1', 'x2');
    h.forwarder.start();
    await until(() => h.destination.sends.length === 1, 'a send in flight');
    const stopping = h.forwarder.stop();
    confirm();
    await stopping;
    expect(h.reader.commits.map((c) => c.seq)).toEqual([3]);
    expect(h.forwarder.stats().state).toBe('stopped');
  });

  it('aborts a send that outlives stopTimeoutMs and loses nothing: a new forwarder resumes from the cursor', async () => {
    const h = await setup({ stopTimeoutMs: 0 });
    h.destination.answer = (_t, n) => (n === 1 ? 'ok' : 'hang');
    h.append('x1', 'x2');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 3, 'first batch committed');
    h.append('x3', 'x4');
    await until(() => h.destination.sends.length === 2, 'second batch in flight');
    await h.forwarder.stop();
    expect(h.reader.commits.map((c) => c.seq)).toEqual([3]);
    expect(h.forwarder.stats()).toMatchObject({ state: 'stopped', lagRecords: 2, sent: 2 });

    const next = await setup({ reader: h.reader });
    next.forwarder.start();
    await until(() => h.reader.committedSeq === 5, 'the rest committed after the restart');
    expect(next.destination.sends.map((s) => s.texts)).toEqual([['x3', 'x4']]);
  });

  it('during a backoff wait returns without committing', async () => {
    // A sleep that only ends on abort, like a long real backoff.
    const h = await setup({ sleep: (_ms, signal) => new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })) });
    h.destination.answer = () => ({ kind: 'retry', reason: 'down', status: 503 });
    h.append('x1');
    h.forwarder.start();
    await until(() => h.forwarder.stats().state === 'backing_off', 'backing off');
    await h.forwarder.stop();
    expect(h.reader.commits).toHaveLength(0);
    expect(h.destination.sends).toHaveLength(1);
  });
});

describe('Forwarder: destinations with a connection', () => {
  it('retries a refused connection through backoff, logs it once, and opens it again after it drops while idle', async () => {
    const reader = new MemoryReader();
    const destination = new ConnectingDestination(reader);
    destination.refusals = 2;
    const h = await setup({ reader, destination });
    h.append('x1');
    h.forwarder.start();
    await until(() => h.reader.committedSeq === 2, 'commit after two refusals');
    expect(destination.attempts).toBe(3);
    expect(h.sleeps.map((s) => s.ms)).toEqual([50, 100]);
    expect(logged(h, 'fake: send failed; retrying')).toMatchObject([{ reason: 'Error: ECONNREFUSED', endpoint: 'fake://destination' }]);
    expect(logged(h, 'fake: recovered')).toHaveLength(1);
    await until(() => h.forwarder.stats().state === 'idle', 'idle');

    destination.drop();
    await until(() => destination.attempts === 4, 'a new connection');
    expect(h.sleeps.map((s) => s.ms)).toEqual([50, 100, 50]);
    h.append('x2');
    await until(() => h.reader.committedSeq === 3, 'commit on the new connection');
    expect(h.forwarder.stats()).toMatchObject({ failures: 3, lastError: 'Error: connection lost' });
  });
});
