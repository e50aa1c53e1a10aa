/**
 * The live feed's bounds, on fake requests and responses: a session holds at most
 * `maxStreamsPerOwner` streams (429), the gateway at most `maxStreams` in all (503), each refusal
 * counted by bound; a session ended to make room has its streams told `signedout` and closed.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { LiveFeed } from '../../../src/web/live-feed.js';

function stream() {
  const req = new EventEmitter() as unknown as IncomingMessage;
  const out = { status: 0, body: '', ended: false };
  const res = {
    writeHead(status: number) {
      out.status = status;
      return res;
    },
    write(chunk: string) {
      out.body += chunk;
      return true;
    },
    end(chunk?: string) {
      if (chunk !== undefined) out.body += chunk;
      out.ended = true;
      (req as unknown as EventEmitter).emit('close');
    },
  } as unknown as ServerResponse;
  return { req, res, out };
}

const feed = (maxStreams: number) => new LiveFeed({ snapshot: () => ({ beds: [] }), activeAlarms: () => [], clock: () => 42, maxStreamsPerOwner: 2, maxStreams });

describe('LiveFeed bounds', () => {
  it('refuses a stream past the gateway\'s total with 503 (web.liveStreamsTotal), past the session\'s with 429; counts each', () => {
    const f = feed(3);
    const open = (owner: string) => {
      const s = stream();
      f.attach(s.req, s.res, () => true, owner);
      return s;
    };
    const a1 = open('a');
    expect([a1, open('a'), open('b')].map((s) => s.out.status)).toEqual([200, 200, 200]);
    const perSession = open('a');
    expect(perSession.out).toMatchObject({ status: 429, ended: true });
    expect(perSession.out.body).toMatch(/web\.liveStreamsPerSession/);
    const total = open('c');
    expect(total.out).toMatchObject({ status: 503, ended: true });
    expect(JSON.parse(total.out.body)).toEqual({ error: 'the gateway already has 3 live streams open (web.liveStreamsTotal); try again later' });
    expect(f.size()).toBe(3);
    expect(f.refused).toEqual({ session: 1, gateway: 1 });
    // one closing frees a place
    a1.res.end();
    expect(f.size()).toBe(2);
    expect(open('c').out.status).toBe(200);
  });

  it('close(owner) ends that session\'s streams only, each told it was signed out', () => {
    const f = feed(10);
    const a = [stream(), stream()];
    const b = stream();
    for (const s of a) f.attach(s.req, s.res, () => true, 'a');
    f.attach(b.req, b.res, () => true, 'b');
    expect(f.close('a')).toBe(2);
    for (const s of a) {
      expect(s.out.ended).toBe(true);
      expect(s.out.body).toContain('event: signedout\ndata: {"now":42}\n\n');
    }
    expect(b.out.ended).toBe(false);
    expect(f.size()).toBe(1);
    expect(f.close('a')).toBe(0);
  });
});
