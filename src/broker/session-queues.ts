/**
 * aedes' in-memory persistence with a bound on what it keeps for one session: the QoS 1 and 2
 * messages queued for a subscriber with a persistent session while it is away, or sent and not
 * yet acknowledged. aedes' own keeps every one for as long as the session lives, so a nurse-call
 * consumer that stays away for days would hold days of alarms in the gateway's memory. Here, past
 * `max` the oldest gives way: a consumer that comes back gets the newest, and each one dropped
 * is reported (`onDrop`) with the session's client id.
 *
 * Everything else (subscriptions, retained messages, wills, QoS 2 state) is aedes-persistence's
 * memory implementation as it is; the queue keeps its semantics: in order, a packet found by its
 * broker id and counter or by its message id, a stream of a copy for a reconnect.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);

/** A queued packet as aedes hands it over (aedes-packet). */
interface QueuedPacket {
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
}

interface Memory {
  outgoingEnqueue(sub: { clientId: string }, packet: QueuedPacket): Promise<void>;
  outgoingEnqueueCombi(subs: ReadonlyArray<{ clientId: string }>, packet: QueuedPacket): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: QueuedPacket): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: QueuedPacket): Promise<QueuedPacket | undefined>;
  outgoingStream(client: { id: string }): Readable;
}

// aedes-persistence's own parts (CommonJS, no types of their own for these files)
const MemoryPersistence = require('aedes-persistence/asyncPersistence.js') as new () => Memory;
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js') as { CallBackPersistence: new (factory: () => Memory) => unknown };
const { Packet } = require('aedes-persistence') as { Packet: new (p: QueuedPacket) => QueuedPacket };

/** What aedes takes as its `persistence`: the memory one, each session's queue at most `max`. */
export function boundedSessionQueues(max: number, onDrop: (clientId: string) => void): unknown {
  if (!Number.isSafeInteger(max) || max < 1) throw new Error(`a session queue bound must be a whole number of at least 1, not ${max}`);

  class BoundedMemoryPersistence extends MemoryPersistence {
    readonly #queues = new Map<string, QueuedPacket[]>();

    override async outgoingEnqueue(sub: { clientId: string }, packet: QueuedPacket): Promise<void> {
      this.#enqueue(sub.clientId, packet);
    }

    override async outgoingEnqueueCombi(subs: ReadonlyArray<{ clientId: string }>, packet: QueuedPacket): Promise<void> {
      for (const sub of subs) this.#enqueue(sub.clientId, packet);
    }

    /**
     * Gives a queued packet the message id it is sent with. A packet no longer queued (given
     * way while it was being sent) is let go without an error: aedes sends it all the same,
     * where an error would close a client that is being sent its queue.
     */
    override async outgoingUpdate(client: { id: string }, packet: QueuedPacket): Promise<void> {
      const queue = this.#queues.get(client.id) ?? [];
      for (let i = 0; i < queue.length; i++) {
        const q = queue[i]!;
        if (q.brokerId === packet.brokerId) {
          // a message id is reused once the 16 bits wrap: the broker counter tells them apart
          if (q.brokerCounter === packet.brokerCounter) {
            q.messageId = packet.messageId;
            return;
          }
        } else if (q.messageId === packet.messageId) {
          queue[i] = packet;
          return;
        }
      }
    }

    override async outgoingClearMessageId(client: { id: string }, packet: QueuedPacket): Promise<QueuedPacket | undefined> {
      const queue = this.#queues.get(client.id);
      if (!queue) return undefined;
      const i = queue.findIndex((q) => q.messageId === packet.messageId);
      if (i < 0) return undefined;
      const [found] = queue.splice(i, 1);
      if (queue.length === 0) this.#queues.delete(client.id);
      return found;
    }

    override outgoingStream(client: { id: string }): Readable {
      // a copy: the queue changes while it is being sent
      return Readable.from([...(this.#queues.get(client.id) ?? [])]);
    }

    #enqueue(clientId: string, packet: QueuedPacket): void {
      let queue = this.#queues.get(clientId);
      if (!queue) this.#queues.set(clientId, (queue = []));
      queue.push(new Packet(packet));
      if (queue.length <= max) return;
      queue.shift();
      onDrop(clientId);
    }
  }

  return new CallBackPersistence(() => new BoundedMemoryPersistence());
}
