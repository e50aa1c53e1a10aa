import { describe, expect, it } from 'vitest';
import { AccountSessions, MAX_CLIENT_ID_LENGTH } from '../../../src/broker/accounts.js';

const limits = { connectionsPerAccount: 2, sessionsPerAccount: 3 };

describe('AccountSessions', () => {
  it('a client id belongs to the account that holds it; a persistent one stays its own after disconnect', () => {
    const a = new AccountSessions(limits);
    const owner = {};
    expect(a.claim(owner, 'nurse-call', 'nc-1', true, false)).toBeNull();
    expect(a.claim({}, 'wb-02', 'nc-1', false, false)).toMatchObject({ reason: 'client_id_taken', returnCode: 2 });
    a.release(owner);
    expect(a.claim({}, 'wb-02', 'nc-1', false, false)).toMatchObject({ reason: 'client_id_taken' });
    // The owner comes back to its session.
    expect(a.claim({}, 'nurse-call', 'nc-1', true, false)).toBeNull();
  });

  it('a clean session frees its client id when it closes', () => {
    const a = new AccountSessions(limits);
    const c = {};
    expect(a.claim(c, 'wb-01', 'x', false, false)).toBeNull();
    a.release(c);
    expect(a.size).toBe(0);
    expect(a.claim({}, 'wb-02', 'x', false, false)).toBeNull();
  });

  it('counts live connections per account; taking over its own client id is not one more', () => {
    const a = new AccountSessions(limits);
    expect(a.claim({}, 'wb-01', 'a', false, false)).toBeNull();
    expect(a.claim({}, 'wb-01', 'b', false, false)).toBeNull();
    expect(a.claim({}, 'wb-01', 'c', false, false)).toMatchObject({ reason: 'account_connections', returnCode: 3 });
    expect(a.claim({}, 'wb-01', 'a', false, false)).toBeNull();
  });

  it('bounds the client ids an account holds, live or kept', () => {
    const a = new AccountSessions({ connectionsPerAccount: 10, sessionsPerAccount: 3 });
    for (const id of ['a', 'b', 'c']) {
      const c = {};
      expect(a.claim(c, 'nc', id, true, false)).toBeNull();
      a.release(c);
    }
    expect(a.claim({}, 'nc', 'd', true, false)).toMatchObject({ reason: 'account_sessions' });
    expect(a.claim({}, 'nc', 'a', true, false)).toBeNull();
  });

  it('refuses an empty client id with a persistent session [MQTT-3.1.3-8] and overlong ids', () => {
    const a = new AccountSessions(limits);
    expect(a.claim({}, 'wb-01', 'aedes_generated', true, true)).toMatchObject({ reason: 'client_id_invalid', returnCode: 2 });
    expect(a.claim({}, 'wb-01', 'x'.repeat(MAX_CLIENT_ID_LENGTH + 1), false, false)).toMatchObject({ reason: 'client_id_invalid' });
  });

  it('keeps QoS 2 packet ids with the session, across reconnects of a persistent one', () => {
    const a = new AccountSessions(limits);
    const first = {};
    a.claim(first, 'wb-01', 's', true, false);
    a.qos2(first)!.set(9, Promise.resolve());
    a.release(first);
    const second = {};
    a.claim(second, 'wb-01', 's', true, false);
    expect(a.qos2(second)!.has(9)).toBe(true);
  });
});
