import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Census, CensusError } from '../../../src/census/census.js';

const wards = [{ id: 'w1', beds: ['1', '2', '3'] }];
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function fresh() {
  dir = await mkdtemp(join(tmpdir(), 'vigil-census-'));
  const file = join(dir, 'census.json');
  const census = await Census.open(wards, [{ id: 'P1', ward: 'w1', bed: '1', devices: ['a'] }], file);
  return { census, file };
}

async function status(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(CensusError);
    return (e as CensusError).status;
  }
}

describe('census', () => {
  it('places devices of admitted patients and nothing else', async () => {
    const { census } = await fresh();
    expect(census.placementOf('a')).toEqual({ patientId: 'P1', ward: 'w1', bed: '1' });
    expect(census.placementOf('b')).toBeUndefined();
  });

  it('admits, assigns, moves, unassigns and discharges, keeping the device index right', async () => {
    const { census } = await fresh();
    await census.admit({ id: 'P2', ward: 'w1', bed: '2' }, 1000);
    await census.assign('P2', 'b');
    expect(census.placementOf('b')).toEqual({ patientId: 'P2', ward: 'w1', bed: '2' });
    await census.move('P2', 'w1', '3');
    expect(census.placementOf('b')).toEqual({ patientId: 'P2', ward: 'w1', bed: '3' });
    await census.unassign('P2', 'b');
    expect(census.placementOf('b')).toBeUndefined();
    await census.discharge('P1');
    expect(census.placementOf('a')).toBeUndefined();
    expect(census.snapshot().patients.map((p) => p.id)).toEqual(['P2']);
  });

  it('refuses contradictions without changing state', async () => {
    const { census } = await fresh();
    expect(await status(census.admit({ id: 'P1', ward: 'w1', bed: '2' }, 0))).toBe(409);
    expect(await status(census.admit({ id: 'P2', ward: 'w1', bed: '1' }, 0))).toBe(409);
    expect(await status(census.admit({ id: 'P2', ward: 'w9', bed: '1' }, 0))).toBe(400);
    expect(await status(census.admit({ id: 'P2', ward: 'w1', bed: '9' }, 0))).toBe(400);
    await census.admit({ id: 'P2', ward: 'w1', bed: '2' }, 0);
    expect(await status(census.assign('P2', 'a'))).toBe(409);
    expect(await status(census.move('P2', 'w1', '1'))).toBe(409);
    expect(census.patient('P2')?.bed).toBe('2');
    expect(await status(census.discharge('P9'))).toBe(404);
    expect(await status(census.unassign('P2', 'a'))).toBe(404);
    expect(census.placementOf('a')?.patientId).toBe('P1');
  });

  it('persists runtime changes across a restart, over the config list', async () => {
    const { census, file } = await fresh();
    await census.admit({ id: 'P2', ward: 'w1', bed: '2', devices: ['c'] }, 5);
    await census.updateSettings('P2', { spo2Scale: 2 });
    const again = await Census.open(wards, [{ id: 'P1', ward: 'w1', bed: '1', devices: ['a'] }], file);
    expect(again.placementOf('c')).toEqual({ patientId: 'P2', ward: 'w1', bed: '2' });
    expect(again.patient('P2')?.settings).toEqual({ spo2Scale: 2 });
    expect(again.patient('P1')).toBeDefined();
  });
});
