import { describe, expect, it } from 'vitest';
import { AccountSessions, MAX_CLIENT_ID_LENGTH, sessionId, sessionOf } from '../../../src/broker/accounts.js';

const limits = { connectionsPerAccount: 2, sessionsPerAccount: 3 };

describe('AccountSessions', () => {
  it('a client id that is the name of an account (device or consumer) is that account\'s alone, held or not', () => {
    const accounts = new Set(['nurse-call', 'wb-01', 'wb-02']);
    const a = new AccountSessions(limits, (name) => accounts.has(name));
    // Nobody holds it yet: another account still may not take it, persistent or clean.
    expect(a.claim({}, 'wb-02', 'nurse-call', true, false)).toMatchObject({ reason: 'client_id_reserved', returnCode: 2 });
    expect(a.claim({}, 'wb-02', 'nurse-call', false, false)).toMatchObject({ reason: 'client_id_reserved', returnCode: 2 });
    expect(a.claim({}, 'nurse-call', 'wb-01', false, false)).toMatchObject({ reason: 'client_id_reserved', returnCode: 2 });
    expect(a.size).toBe(0);
    // The account itself may, and so may each account with its own name.
    const owner = {};
    expect(a.claim(owner, 'nurse-call', 'nurse-call', true, false)).toBeNull();
    expect(a.claim({}, 'wb-02', 'wb-02', true, false)).toBeNull();
    a.release(owner);
    expect(a.claim({}, 'wb-02', 'nurse-call', true, false)).toMatchObject({ reason: 'client_id_reserved' });
    expect(a.claim({}, 'nurse-call', 'nurse-call', true, false)).toBeNull();
  });

  it('the same client id under two accounts is two sessions: neither can hold it against the other', () => {
    const a = new AccountSessions(limits);
    // wb-02 takes a persistent session first, with a QoS 2 message awaiting PUBREL, and goes away.
    const squatter = {};
    expect(a.claim(squatter, 'wb-02', 'nc-1', true, false)).toBeNull();
    a.qos2(squatter)!.set(5, Promise.resolve());
    a.release(squatter);
    // The consumer gets the client id all the same, with a session of its own.
    const owner = {};
    expect(a.claim(owner, 'nurse-call', 'nc-1', true, false)).toBeNull();
    expect(a.qos2(owner)!.size).toBe(0);
    // And wb-02 comes back to its own, while the consumer is connected.
    const back = {};
    expect(a.claim(back, 'wb-02', 'nc-1', true, false)).toBeNull();
    expect(a.qos2(back)!.has(5)).toBe(true);
    expect(a.size).toBe(2);
  });

  it('the session ids the broker keys sessions by: the account and the client id, told apart again', () => {
    expect(sessionId('wb-01', 'nc-1')).toBe('wb-01/nc-1');
    expect(sessionOf(sessionId('wb-01', 'a/b/c'))).toEqual({ account: 'wb-01', clientId: 'a/b/c' });
  });

  it('a clean session frees its client id when it closes', () => {
    const a = new AccountSessions(limits);
    const c = {};
    expect(a.claim(c, 'wb-01', 'x', false, false)).toBeNull();
    a.release(c);
    expect(a.size).toBe(0);
    expect(a.claim({}, 'wb-02', 'x', false, false)).toBeNull();
    expect(a.size).toBe(1);
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
