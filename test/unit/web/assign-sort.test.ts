/** The caregiver assignment's checks, and the order of the ward's alarm list. */
import { describe, expect, it } from 'vitest';
import { check } from '../../../src/web/routes-assign.js';
import { sortAlarms } from '../../../src/alarms/routes.js';
import type { ActiveAlarm } from '../../../src/alarms/manager.js';

describe('caregiver assignment checks', () => {
  const staff = new Set(['nurse.jones', 'nurse.kim', 'charge.smith']);
  const isStaff = (u: string) => staff.has(u);

  it('accepts nurses and charge nurses on the ward\'s beds', () => {
    expect(check({ charge: 'charge.smith', beds: { '1': { nurse: 'nurse.jones', buddy: 'nurse.kim' }, '2': {} } }, ['1', '2'], isStaff)).toEqual([]);
  });

  it('names each problem by its field', () => {
    expect(check({ charge: 'admin', beds: { '9': { nurse: 'nurse.jones' }, '1': { nurse: 'nurse.kim', buddy: 'nurse.kim' }, '2': { buddy: 'someone' } } }, ['1', '2'], isStaff)).toEqual([
      'charge: no nurse or charge nurse "admin"',
      'beds.1.buddy: the assigned nurse cannot be their own buddy',
      'beds.2.buddy: no nurse or charge nurse "someone"',
      'beds.9: the ward has no such bed',
    ]);
  });
});

describe('the ward\'s alarm list', () => {
  const alarm = (id: string, priority: ActiveAlarm['priority'], raisedAt: number, acknowledged: boolean) => ({ id, priority, raisedAt, acknowledged }) as ActiveAlarm;

  it('puts unacknowledged alarms before acknowledged ones of the same priority, then the oldest first', () => {
    const sorted = sortAlarms([
      alarm('med-acked-old', 'medium', 1, true),
      alarm('high-acked', 'high', 2, true),
      alarm('med-new', 'medium', 5, false),
      alarm('high-new', 'high', 9, false),
      alarm('med-old', 'medium', 3, false),
      alarm('low', 'low', 0, false),
    ]);
    expect(sorted.map((a) => a.id)).toEqual(['high-new', 'high-acked', 'med-old', 'med-new', 'med-acked-old', 'low']);
  });
});
