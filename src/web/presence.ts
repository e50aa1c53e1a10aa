/**
 * Who has the nurse station open right now: the signed-in people who may acknowledge alarms
 * (`acknowledge` in roles.ts: nurse, charge nurse) with a live stream (`/api/ward/events`),
 * counted per username. Delivery confirmation asks it whether an escalation step's recipients can
 * see and hear the station, and is told when one opens it. A station opened by someone who may
 * not acknowledge (an admin) is not counted: it confirms no delivery, so a step nobody who can
 * act on it sees goes on to fail and escalate.
 */
import type { IncomingMessage } from 'node:http';
import type { Principal } from './access.js';
import { may } from './roles.js';

export class StationPresence {
  private readonly open = new Map<string, number>();
  private readonly listeners: Array<(username: string) => void> = [];

  /**
   * A person's stream opened; it counts until the request closes, and only when they may
   * acknowledge alarms.
   * @returns whether it counts.
   */
  attach(who: Principal, req: IncomingMessage): boolean {
    if (!may(who, 'acknowledge')) return false;
    const username = who.username;
    this.open.set(username, (this.open.get(username) ?? 0) + 1);
    req.once('close', () => {
      const left = (this.open.get(username) ?? 1) - 1;
      if (left > 0) this.open.set(username, left);
      else this.open.delete(username);
    });
    for (const l of this.listeners) l(username);
    return true;
  }

  /** Of `usernames`, those with a station open; without a list, everyone who has one (all may acknowledge). */
  connected(usernames?: readonly string[]): string[] {
    if (usernames === undefined) return [...this.open.keys()];
    return usernames.filter((u) => this.open.has(u));
  }

  /** Calls `listener` each time someone who may acknowledge opens the station. */
  onAttach(listener: (username: string) => void): void {
    this.listeners.push(listener);
  }
}
