/**
 * Binds MQTT client ids to accounts (a device or a consumer). The first account to use a client
 * id owns it for as long as the broker keeps that session: while it is connected, and after it
 * disconnects if it asked for a persistent session (clean session 0), whose subscriptions and
 * queued QoS 1 messages aedes keeps for it. Another account presenting that client id is refused
 * ([MQTT-3.2.2-3] return code 2, identifier rejected), so it can neither kick the owner off
 * ([MQTT-3.1.4-2] would close the existing connection) nor inherit its session and queue.
 *
 * Limits per account, not per connection: live connections (`connectionsPerAccount`) and client
 * ids held, live or kept as sessions (`sessionsPerAccount`), which also bounds what aedes keeps
 * for an account's offline sessions. Each client id also carries the QoS 2 packet ids received
 * and not yet released by PUBREL ([MQTT-4.3.3-2]), so a retransmission is stored only once,
 * across reconnects of a persistent session too.
 */

/** Longest client id accepted, characters (the spec requires 1–23 to be accepted, [MQTT-3.1.3-5]). */
export const MAX_CLIENT_ID_LENGTH = 128;

export interface AccountLimits {
  /** Live connections one account may hold. */
  readonly connectionsPerAccount: number;
  /** Client ids one account may hold, connected or kept as a persistent session. */
  readonly sessionsPerAccount: number;
}

export interface ClaimRefusal {
  /** Counted as `vigil_mqtt_connections_refused_total{reason}`. */
  readonly reason: 'client_id_taken' | 'client_id_invalid' | 'account_connections' | 'account_sessions';
  /** CONNACK return code ([MQTT-3.2.2-3]): 2 identifier rejected, 3 server unavailable. */
  readonly returnCode: 2 | 3;
  readonly message: string;
}

interface ClientIdEntry {
  readonly account: string;
  /** Connections using this id now (one, or two during a takeover). */
  readonly live: Set<object>;
  /** Kept after disconnect (clean session 0 on the last connect). */
  persistent: boolean;
  /** QoS 2 packet ids stored and not yet released, with their (pending) append. */
  readonly qos2: Map<number, Promise<void>>;
}

export class AccountSessions {
  private readonly byId = new Map<string, ClientIdEntry>();
  private readonly byAccount = new Map<string, Set<string>>();
  private readonly clientIdOf = new WeakMap<object, string>();

  constructor(private readonly limits: AccountLimits) {}

  /**
   * Lets `client` (authenticated as `account`) use `clientId`, or says why not.
   * @param persistent clean session 0: the session outlives the connection
   * @param generated the broker made the id up (the client sent an empty one)
   */
  claim(client: object, account: string, clientId: string, persistent: boolean, generated: boolean): ClaimRefusal | null {
    // [MQTT-3.1.3-8]: an empty client id with clean session 0 is refused with return code 2.
    if (generated && persistent) return { reason: 'client_id_invalid', returnCode: 2, message: 'an empty client id needs clean session 1' };
    if (clientId.length > MAX_CLIENT_ID_LENGTH) return { reason: 'client_id_invalid', returnCode: 2, message: `client id longer than ${MAX_CLIENT_ID_LENGTH} characters` };
    const entry = this.byId.get(clientId);
    if (entry && entry.account !== account) return { reason: 'client_id_taken', returnCode: 2, message: 'client id belongs to another account' };
    const ids = this.byAccount.get(account) ?? new Set<string>();
    let live = 0;
    for (const id of ids) if (id !== clientId) live += this.byId.get(id)?.live.size ?? 0;
    // A connection with a client id already in use by this account takes it over: no extra connection.
    if (live >= this.limits.connectionsPerAccount) return { reason: 'account_connections', returnCode: 3, message: `account already has ${live} connections (mqtt.limits.connectionsPerAccount)` };
    if (!entry && ids.size >= this.limits.sessionsPerAccount) return { reason: 'account_sessions', returnCode: 3, message: `account already holds ${ids.size} client ids (mqtt.limits.sessionsPerAccount)` };
    const e = entry ?? { account, live: new Set<object>(), persistent, qos2: new Map<number, Promise<void>>() };
    e.live.add(client);
    e.persistent = persistent;
    this.byId.set(clientId, e);
    this.byAccount.set(account, ids.add(clientId));
    this.clientIdOf.set(client, clientId);
    return null;
  }

  /** The connection closed: a clean session's id is free again, a persistent one stays its account's. */
  release(client: object): void {
    const id = this.clientIdOf.get(client);
    if (id === undefined) return;
    this.clientIdOf.delete(client);
    const e = this.byId.get(id);
    if (!e) return;
    e.live.delete(client);
    if (e.live.size > 0 || e.persistent) return;
    this.byId.delete(id);
    const ids = this.byAccount.get(e.account);
    ids?.delete(id);
    if (ids?.size === 0) this.byAccount.delete(e.account);
  }

  /** QoS 2 packet ids awaiting PUBREL in this client's session. */
  qos2(client: object): Map<number, Promise<void>> | undefined {
    const id = this.clientIdOf.get(client);
    return id === undefined ? undefined : this.byId.get(id)?.qos2;
  }

  /** Client ids held now (live or kept). */
  get size(): number {
    return this.byId.size;
  }
}
