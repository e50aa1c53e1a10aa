/**
 * Who has the nurse station open, for delivery confirmation: only people who may acknowledge
 * alarms (nurse, charge nurse) count; an admin's open station is not a place an alarm was
 * delivered to.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/web/access.js';
import { StationPresence } from '../../../src/web/presence.js';

const who = (username: string, role: Principal['role']): Principal => ({ username, name: username, role, via: 'session' });
const request = () => new EventEmitter() as unknown as IncomingMessage;

describe('StationPresence', () => {
  it('counts the streams of nurses and charge nurses until they close, and tells its listeners', () => {
    const presence = new StationPresence();
    const opened: string[] = [];
    presence.onAttach((u) => opened.push(u));
    const a = request();
    const b = request();
    expect(presence.attach(who('nurse.jones', 'nurse'), a)).toBe(true);
    expect(presence.attach(who('nurse.jones', 'nurse'), b)).toBe(true);
    expect(presence.attach(who('charge.smith', 'charge'), request())).toBe(true);
    expect(opened).toEqual(['nurse.jones', 'nurse.jones', 'charge.smith']);
    expect(presence.connected()).toEqual(['nurse.jones', 'charge.smith']);
    a.emit('close');
    expect(presence.connected(['nurse.jones'])).toEqual(['nurse.jones']);
    b.emit('close');
    expect(presence.connected(['nurse.jones', 'charge.smith'])).toEqual(['charge.smith']);
  });

  it('an admin, who may not acknowledge alarms, opening the station counts for nobody, named or not', () => {
    const presence = new StationPresence();
    const opened: string[] = [];
    presence.onAttach((u) => opened.push(u));
    expect(presence.attach(who('admin1', 'admin'), request())).toBe(false);
    expect(presence.connected()).toEqual([]);
    expect(presence.connected(['admin1'])).toEqual([]);
    expect(opened).toEqual([]);
  });
});
