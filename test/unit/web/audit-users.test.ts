import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../../src/web/audit.js';
import { UserDirectory, readUsersFile, writeUsersFile } from '../../../src/web/users.js';
import { staleAfterSeconds } from '../../../src/web/ward-view.js';
import { detectorConfigSchema } from '../../../src/detectors/config.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('AuditLog', () => {
  it('appends JSON lines and reads them back newest first, filtered by patient', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
    const file = join(dir, 'audit', 'audit.jsonl');
    let now = 100;
    const log = new AuditLog(file, () => now++);
    await log.record({ who: 'a', role: 'nurse', action: 'signin' });
    await log.record({ who: 'a', role: 'nurse', action: 'alarm.ack', patientId: 'P1', detail: { id: 'x' } });
    await log.record({ who: 'b', role: 'charge', action: 'limits.set', patientId: 'P2' });
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).action)).toEqual(['signin', 'alarm.ack', 'limits.set']);
    expect((await log.recent(2)).map((e) => e.action)).toEqual(['limits.set', 'alarm.ack']);
    expect(await log.recent(10, { patientId: 'P1' })).toEqual([{ ts: 101, who: 'a', role: 'nurse', action: 'alarm.ack', patientId: 'P1', detail: { id: 'x' } }]);
    await log.close();
    // a torn last line (crash mid-write) is skipped
    writeFileSync(file, readFileSync(file, 'utf8') + '{"ts":1,"who');
    expect((await new AuditLog(file).recent(10)).length).toBe(3);
  });
});

describe('UserDirectory', () => {
  it('merges config and file users, re-reads the file when it changes, and reports removed or changed accounts', () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-users-'));
    const file = join(dir, 'users.yaml');
    writeUsersFile(file, [{ username: 'f1', role: 'nurse', passwordHash: 'h1' }]);
    const removed: string[] = [];
    const users = new UserDirectory([{ username: 'c1', role: 'admin', passwordHash: 'h0' }], file, (u) => removed.push(u));
    expect(users.find('c1')?.role).toBe('admin');
    expect(users.find('f1')?.role).toBe('nurse');
    writeUsersFile(file, [{ username: 'f2', role: 'charge', passwordHash: 'h2' }]);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(users.find('f2')?.role).toBe('charge');
    expect(users.find('f1')).toBeUndefined();
    expect(removed).toEqual(['f1']);
    expect(readUsersFile(file)).toEqual([{ username: 'f2', role: 'charge', passwordHash: 'h2' }]);
  });

  it('keeps the last good accounts when the file breaks, and reports it', () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-users-'));
    const file = join(dir, 'users.yaml');
    writeUsersFile(file, [{ username: 'f1', role: 'nurse', passwordHash: 'h1' }]);
    const broken: string[] = [];
    const users = new UserDirectory([], file, () => {}, (e) => broken.push(e.message));
    writeFileSync(file, 'users: [{ username: f1, role: surgeon, passwordHash: x }]');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(users.find('f1')?.role).toBe('nurse');
    expect(broken[0]).toMatch(/users\[0\]\.role/);
  });
});

describe('staleAfterSeconds', () => {
  it('uses the live threshold for continuous signals and NEWS2 staleness for intermittent ones', () => {
    const s = staleAfterSeconds(detectorConfigSchema.parse({}), 30);
    expect(s).toMatchObject({ hr: 30, spo2: 30, rr: 30, pr: 30, sbp: 4 * 3600, temp: 4 * 3600, acvpu: 4 * 3600, o2: 4 * 3600 });
  });
});
