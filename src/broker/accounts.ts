/**
 * MQTT sessions per account (a device or a consumer). A session is the account and the client id
 * together: the broker knows it as `{account}/{client id}` (an account id has no `/`), so the same
 * client id under two accounts is two sessions. No account can kick another's connection off
 * ([MQTT-3.1.4-2] closes an existing connection with the same client id: here only the same
 * account's), inherit its persistent session (clean session 0: subscriptions and queued QoS 1
 * messages), or hold a client id so that another account cannot use it. A client id that is the
 * name of an account (a device id, a consumer name) is that account's alone: another account
 * presenting it is refused ([MQTT-3.2.2-3] return code 2, identifier rejected), as a device
 * misconfigured with, or posing as, another account's name.
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
  readonly reason: 'client_id_reserved' | 'client_id_invalid' | 'account_connections' | 'account_sessions';
  /** CONNACK return code ([MQTT-3.2.2-3]): 2 identifier rejected, 3 server unavailable. */
  readonly returnCode: 2 | 3;
  readonly message: string;
}

/** The id the broker knows a session by: the account and the client id it presented. */
export function sessionId(account: string, clientId: string): string {
  return `${account}/${clientId}`;
}

/** The account and the client id of a session id made by `sessionId`. */
export function sessionOf(id: string): { account: string; clientId: string } {
  const slash = id.indexOf('/');
  return slash < 0 ? { account: '', clientId: id } : { account: id.slice(0, slash), clientId: id.slice(slash + 1) };
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
  private readonly sessionOfClient = new WeakMap<object, string>();

  /**
   * @param isAccount whether a name is an account's (device id or consumer name): a client id
   *   that is one is reserved for that account
   */
  constructor(
    private readonly limits: AccountLimits,
    private readonly isAccount: (name: string) => boolean = () => false,
  ) {}

  /**
   * Lets `client` (authenticated as `account`) use `clientId`, or says why not.
   * @param persistent clean session 0: the session outlives the connection
   * @param generated the broker made the id up (the client sent an empty one)
   */
  claim(client: object, account: string, clientId: string, persistent: boolean, generated: boolean): ClaimRefusal | null {
    // [MQTT-3.1.3-8]: an empty client id with clean session 0 is refused with return code 2.
    if (generated && persistent) return { reason: 'client_id_invalid', returnCode: 2, message: 'an empty client id needs clean session 1' };
    if (clientId.length > MAX_CLIENT_ID_LENGTH) return { reason: 'client_id_invalid', returnCode: 2, message: `client id longer than ${MAX_CLIENT_ID_LENGTH} characters` };
    if (clientId !== account && this.isAccount(clientId)) return { reason: 'client_id_reserved', returnCode: 2, message: 'client id is the name of another account, reserved for it' };
    const key = sessionId(account, clientId);
    const entry = this.byId.get(key);
    const ids = this.byAccount.get(account) ?? new Set<string>();
    let live = 0;
    for (const id of ids) if (id !== key) live += this.byId.get(id)?.live.size ?? 0;
    // A connection with a client id already in use by this account takes it over: no extra connection.
    if (live >= this.limits.connectionsPerAccount) return { reason: 'account_connections', returnCode: 3, message: `account already has ${live} connections (mqtt.limits.connectionsPerAccount)` };
    if (!entry && ids.size >= this.limits.sessionsPerAccount) return { reason: 'account_sessions', returnCode: 3, message: `account already holds ${ids.size} client ids (mqtt.limits.sessionsPerAccount)` };
    const e = entry ?? { account, live: new Set<object>(), persistent, qos2: new Map<number, Promise<void>>() };
    // [MQTT-3.1.2-6] a clean session starts with no state of the one before: a QoS 2 packet id
    // the old one held until its PUBREL must not make the new one's next message a "resend"
    if (!persistent) e.qos2.clear();
    e.live.add(client);
    e.persistent = persistent;
    this.byId.set(key, e);
    this.byAccount.set(account, ids.add(key));
    this.sessionOfClient.set(client, key);
    return null;
  }

  /** The connection closed: a clean session is gone, a persistent one stays its account's. */
  release(client: object): void {
    const id = this.sessionOfClient.get(client);
    if (id === undefined) return;
    this.sessionOfClient.delete(client);
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
    const id = this.sessionOfClient.get(client);
    return id === undefined ? undefined : this.byId.get(id)?.qos2;
  }

  /** Sessions held now (live or kept), all accounts. */
  get size(): number {
    return this.byId.size;
  }
}
