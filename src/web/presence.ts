/**
 * Who has the nurse station open right now: the signed-in people with a live stream
 * (`/api/ward/events`), counted per username. Delivery confirmation asks it whether an
 * escalation step's recipients can see and hear the station, and is told when one opens it.
 */
import type { IncomingMessage } from 'node:http';

export class StationPresence {
  private readonly open = new Map<string, number>();
  private readonly listeners: Array<(username: string) => void> = [];

  /** A person's stream opened; it counts until the request closes. */
  attach(username: string, req: IncomingMessage): void {
    this.open.set(username, (this.open.get(username) ?? 0) + 1);
    req.once('close', () => {
      const left = (this.open.get(username) ?? 1) - 1;
      if (left > 0) this.open.set(username, left);
      else this.open.delete(username);
    });
    for (const l of this.listeners) l(username);
  }

  /** Of `usernames`, those with a station open; without a list, everyone who has one. */
  connected(usernames?: readonly string[]): string[] {
    if (usernames === undefined) return [...this.open.keys()];
    return usernames.filter((u) => this.open.has(u));
  }

  /** Calls `listener` each time someone opens the station. */
  onAttach(listener: (username: string) => void): void {
    this.listeners.push(listener);
  }
}
