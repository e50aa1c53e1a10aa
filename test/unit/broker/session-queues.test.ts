import { describe, expect, it } from 'vitest';
import { boundedSessionQueues } from '../../../src/broker/session-queues.js';

interface Pkt {
  brokerId: string;
  brokerCounter: number;
  messageId?: number;
  topic: string;
}
interface Queues {
  outgoingEnqueue(sub: { clientId: string }, p: Pkt): Promise<void>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, p: Pkt): Promise<void>;
  outgoingUpdate(client: { id: string }, p: Pkt): Promise<void>;
  outgoingClearMessageId(client: { id: string }, p: { messageId: number }): Promise<Pkt | undefined>;
  outgoingStream(client: { id: string }): AsyncIterable<Pkt>;
}

const packet = (n: number): Pkt => ({ brokerId: 'b', brokerCounter: n, topic: `t/${n}` });
async function queued(q: Queues, id: string): Promise<number[]> {
  const out: number[] = [];
  for await (const p of q.outgoingStream({ id })) out.push(p.brokerCounter);
  return out;
}

describe('boundedSessionQueues', () => {
  it('keeps the newest `max` a session, each dropped one reported with its client id', async () => {
    const dropped: string[] = [];
    const q = boundedSessionQueues(3, (id) => dropped.push(id)) as Queues;
    for (let n = 1; n <= 5; n++) await q.outgoingEnqueueCombi([{ clientId: 'a' }, { clientId: 'b' }], packet(n));
    await q.outgoingEnqueue({ clientId: 'b' }, packet(6));
    expect(await queued(q, 'a')).toEqual([3, 4, 5]);
    expect(await queued(q, 'b')).toEqual([4, 5, 6]);
    expect(dropped).toEqual(['a', 'b', 'a', 'b', 'b']);
  });

  it('gives a queued packet its message id, clears it by that id, and lets go of one no longer queued', async () => {
    const q = boundedSessionQueues(2, () => {}) as Queues;
    for (let n = 1; n <= 2; n++) await q.outgoingEnqueue({ clientId: 'a' }, packet(n));
    // the reconnect's stream is a copy: packet 1 gives way while it is being sent
    const sending = await queued(q, 'a');
    await q.outgoingEnqueue({ clientId: 'a' }, packet(3));
    await expect(q.outgoingUpdate({ id: 'a' }, { ...packet(sending[0]!), messageId: 11 })).resolves.toBeUndefined();
    await q.outgoingUpdate({ id: 'a' }, { ...packet(2), messageId: 12 });
    expect(await q.outgoingClearMessageId({ id: 'a' }, { messageId: 11 })).toBeUndefined();
    expect((await q.outgoingClearMessageId({ id: 'a' }, { messageId: 12 }))?.brokerCounter).toBe(2);
    expect(await queued(q, 'a')).toEqual([3]);
    expect(() => boundedSessionQueues(0, () => {})).toThrow('a session queue bound must be a whole number of at least 1, not 0');
  });
});
