/**
 * Server-sent events for the nurse station. A new stream first gets the whole ward
 * (`snapshot`), then changes batched every `flushMs`: `vitals` (latest values per patient),
 * `news2`, `alarms` (the full sorted active list plus the transitions that changed it), and a
 * fresh `snapshot` after a census change. A `ping` with the server time goes out every
 * `heartbeatMs` so the page notices a silent network drop; a stream whose session ended gets
 * `signedout` and is closed (at once when the session was ended to make room for a sign-in).
 *
 * Streams are bounded per session (`maxStreamsPerOwner`, 429) and for the whole gateway
 * (`maxStreams`, 503): each holds a socket and gets every change.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlarmTransition } from '../core/types.js';
import type { News2Event } from '../detectors/news2.js';
import type { LatestValue, WardMetric } from './ward-store.js';

interface Client {
  readonly res: ServerResponse;
  /** Still signed in? Checked at each heartbeat. */
  readonly alive: () => boolean;
  /** Whose stream this is (a session, or the API token), for the per-session cap. */
  readonly owner: string;
}

export interface LiveFeedOptions {
  /** Builds the `snapshot` event's data. */
  readonly snapshot: () => unknown;
  /** Builds the `alarms` event's active list. */
  readonly activeAlarms: () => unknown;
  /** A patient's NEWS2 now, sent with every change of their vitals (its parts and missing list move without the score). */
  readonly news2Of?: (patientId: string) => News2Event | undefined;
  readonly clock: () => number;
  /** ms between change batches (default 250). */
  readonly flushMs?: number;
  /** ms between heartbeats (default 5000). */
  readonly heartbeatMs?: number;
  /** Open streams one session (or the API token) may hold (default 6: a browser's own limit per host). */
  readonly maxStreamsPerOwner?: number;
  /** Open streams the gateway holds in all (default 200); one more is answered 503. */
  readonly maxStreams?: number;
}

/** Streams refused, by the bound that refused them (read by /metrics). */
export interface StreamRefusals {
  /** The session (or the API token) held `maxStreamsPerOwner` already (429). */
  session: number;
  /** The gateway held `maxStreams` already (503). */
  gateway: number;
}

export class LiveFeed {
  private readonly clients = new Set<Client>();
  /** Open streams per owner. */
  private readonly owners = new Map<string, number>();
  private vitals = new Map<string, Partial<Record<WardMetric, LatestValue>>>();
  private news2: News2Event[] = [];
  private transitions: AlarmTransition[] = [];
  /** The active list changed without a transition (audio paused): send it with the next flush. */
  private alarmsRefresh = false;
  private censusChanged = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Streams refused so far, by bound. */
  readonly refused: StreamRefusals = { session: 0, gateway: 0 };

  constructor(private readonly opts: LiveFeedOptions) {}

  start(): void {
    this.flushTimer = setInterval(() => this.flush(), this.opts.flushMs ?? 250);
    this.heartbeat = setInterval(() => this.ping(), this.opts.heartbeatMs ?? 5000);
  }

  /** Ends every stream (before the HTTP server closes, which would otherwise wait for them). */
  stop(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.owners.clear();
  }

  /**
   * Takes over a request's socket as an event stream, or answers 429 when `owner` already holds
   * its cap of streams, 503 when the gateway holds its cap of streams in all (each stream holds a
   * socket and gets every change: streams opened without end would cost memory and CPU for
   * nothing).
   * @returns false when the stream was refused.
   */
  attach(req: IncomingMessage, res: ServerResponse, alive: () => boolean, owner: string): boolean {
    const max = this.opts.maxStreamsPerOwner ?? 6;
    const open = this.owners.get(owner) ?? 0;
    if (open >= max) {
      this.refused.session++;
      res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5' });
      res.end(JSON.stringify({ error: `this session already has ${open} live streams open (web.liveStreamsPerSession); close a page first` }));
      return false;
    }
    const total = this.opts.maxStreams ?? 200;
    if (this.clients.size >= total) {
      this.refused.gateway++;
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5' });
      res.end(JSON.stringify({ error: `the gateway already has ${this.clients.size} live streams open (web.liveStreamsTotal); try again later` }));
      return false;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    const client: Client = { res, alive, owner };
    this.clients.add(client);
    this.owners.set(owner, open + 1);
    req.on('close', () => this.detach(client));
    res.write('retry: 2000\n\n');
    send(res, 'snapshot', this.opts.snapshot());
    return true;
  }

  /**
   * Ends the streams of an owner whose session ended (`signedout`, then closed).
   * @returns how many were open.
   */
  close(owner: string): number {
    let n = 0;
    const now = this.opts.clock();
    for (const c of [...this.clients]) {
      if (c.owner !== owner) continue;
      send(c.res, 'signedout', { now });
      c.res.end();
      this.detach(c);
      n++;
    }
    return n;
  }

  private detach(c: Client): void {
    if (!this.clients.delete(c)) return;
    const left = (this.owners.get(c.owner) ?? 1) - 1;
    if (left > 0) this.owners.set(c.owner, left);
    else this.owners.delete(c.owner);
  }

  /** Number of open streams. */
  size(): number {
    return this.clients.size;
  }

  vitalsChanged(changed: ReadonlyMap<string, Partial<Record<WardMetric, LatestValue>>>): void {
    // Nobody watching: a stream that opens later starts from a snapshot anyway.
    if (this.clients.size === 0) return;
    for (const [id, values] of changed) {
      const pending = this.vitals.get(id);
      if (pending === undefined) this.vitals.set(id, { ...values });
      else Object.assign(pending, values);
    }
  }

  news2Changed(e: News2Event): void {
    if (this.clients.size > 0) this.news2.push(e);
  }

  alarmChanged(a: AlarmTransition): void {
    if (this.clients.size > 0) this.transitions.push(a);
  }

  census(): void {
    this.censusChanged = true;
  }

  /** Sends the active alarm list with the next flush though no transition changed it. */
  refreshAlarms(): void {
    this.alarmsRefresh = true;
  }

  /** Sends what changed since the last flush. */
  flush(): void {
    if (this.clients.size === 0) {
      this.vitals.clear();
      this.news2 = [];
      this.transitions = [];
      this.censusChanged = false;
      return;
    }
    const events: Array<[string, unknown]> = [];
    if (this.censusChanged) events.push(['snapshot', this.opts.snapshot()]);
    else {
      if (this.vitals.size > 0) events.push(['vitals', Object.fromEntries(this.vitals)]);
      // each patient's latest: the changes, then the current score of those whose vitals moved
      const news2 = new Map(this.news2.map((e) => [e.patientId, e]));
      for (const id of this.vitals.keys()) {
        const now = this.opts.news2Of?.(id);
        if (now) news2.set(id, now);
      }
      if (news2.size > 0) events.push(['news2', [...news2.values()].map(({ type: _t, parts: _p, ...rest }) => rest)]);
    }
    if (this.transitions.length > 0 || this.alarmsRefresh) events.push(['alarms', { alarms: this.opts.activeAlarms(), transitions: this.transitions }]);
    this.vitals = new Map();
    this.news2 = [];
    this.transitions = [];
    this.alarmsRefresh = false;
    this.censusChanged = false;
    if (events.length === 0) return;
    for (const c of this.clients) for (const [name, data] of events) send(c.res, name, data);
  }

  private ping(): void {
    const now = this.opts.clock();
    for (const c of [...this.clients]) {
      if (!c.alive()) {
        send(c.res, 'signedout', { now });
        c.res.end();
        this.detach(c);
      } else send(c.res, 'ping', { now });
    }
  }
}

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
