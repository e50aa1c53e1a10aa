/**
 * The census: wards and beds (from config), patients and their devices (from config at first
 * start, then from the persisted state so runtime changes survive a restart).
 *
 * Lookups by device id are on the ingest hot path, so they are a single Map read.
 */
import { EventEmitter } from 'node:events';
import type { PatientSettings, Placement } from '../core/types.js';
import type { PatientConfig, WardConfig } from '../config/schema.js';
import { writeJsonAtomic, readJsonIfExists } from '../core/atomic-file.js';

export interface Patient {
  readonly id: string;
  readonly name?: string;
  readonly ward: string;
  readonly bed: string;
  readonly devices: readonly string[];
  readonly settings: PatientSettings;
  /** Epoch ms of admission (0 when loaded from config). */
  readonly admittedAt: number;
}

export interface CensusSnapshot {
  readonly wards: readonly WardConfig[];
  readonly patients: readonly Patient[];
}

/** A census change rejected because it contradicts the current state. */
export class CensusError extends Error {
  override readonly name = 'CensusError';
  constructor(
    message: string,
    /** HTTP-ish status: 404 unknown thing, 409 conflict, 400 bad request. */
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

export interface CensusEvents {
  change: [CensusSnapshot];
}

/**
 * Told of every change to where a patient is or to their clinical settings (admit, move,
 * settings, discharge: `patient` undefined), after it is saved and before the change's caller
 * gets its answer, so whatever it sets in motion is in force when the answer arrives.
 */
export type PatientHook = (patientId: string, patient: Patient | undefined) => Promise<void>;

interface PersistedCensus {
  readonly version: 1;
  readonly patients: Patient[];
}

export class Census extends EventEmitter<CensusEvents> {
  private readonly wards: Map<string, WardConfig>;
  private patients = new Map<string, Patient>();
  private byDevice = new Map<string, Placement>();
  /** `ward/bed` → patient id, so admitting a whole ward at start-up stays linear. */
  private readonly byBed = new Map<string, string>();
  private readonly hooks: PatientHook[] = [];

  private constructor(
    wards: readonly WardConfig[],
    private readonly file: string | undefined,
  ) {
    super();
    this.wards = new Map(wards.map((w) => [w.id, w]));
  }

  /**
   * Builds the census. When `file` holds a persisted state it wins over the config's patients
   * (runtime admissions survive restarts); wards and beds always come from the config.
   */
  static async open(wards: readonly WardConfig[], patients: readonly PatientConfig[], file?: string): Promise<Census> {
    const census = new Census(wards, file);
    const saved = file ? await readJsonIfExists<PersistedCensus>(file) : undefined;
    const initial: Patient[] = saved?.patients ?? patients.map((p) => ({ ...p, settings: p.settings ?? {}, admittedAt: 0 }));
    for (const p of initial) census.insert(p);
    return census;
  }

  /** Adds a hook told of every change of a patient's placement or settings (see `PatientHook`). */
  onPatient(hook: PatientHook): void {
    this.hooks.push(hook);
  }

  /** Where the device's data belongs, or undefined for an unassigned device. */
  placementOf(deviceId: string): Placement | undefined {
    return this.byDevice.get(deviceId);
  }

  patient(id: string): Patient | undefined {
    return this.patients.get(id);
  }

  snapshot(): CensusSnapshot {
    return { wards: [...this.wards.values()], patients: [...this.patients.values()] };
  }

  /** Admits a patient to a free bed. */
  async admit(p: { id: string; name?: string; ward: string; bed: string; devices?: string[]; settings?: PatientSettings }, now: number): Promise<Patient> {
    if (this.patients.has(p.id)) throw new CensusError(`patient ${p.id} is already admitted`, 409);
    const patient: Patient = { id: p.id, ward: p.ward, bed: p.bed, devices: p.devices ?? [], settings: p.settings ?? {}, admittedAt: now, ...(p.name ? { name: p.name } : {}) };
    this.insert(patient);
    await this.changed(p.id);
    return patient;
  }

  async discharge(id: string): Promise<void> {
    const p = this.require(id);
    this.patients.delete(id);
    this.byBed.delete(`${p.ward}/${p.bed}`);
    for (const d of p.devices) this.byDevice.delete(d);
    await this.changed(id);
  }

  async move(id: string, ward: string, bed: string): Promise<Patient> {
    const p = this.require(id);
    this.patients.delete(id);
    this.byBed.delete(`${p.ward}/${p.bed}`);
    try {
      this.insert({ ...p, ward, bed });
    } catch (err) {
      this.patients.set(id, p);
      this.byBed.set(`${p.ward}/${p.bed}`, id);
      throw err;
    }
    await this.changed(id);
    return this.require(id);
  }

  async assign(id: string, deviceId: string): Promise<Patient> {
    const p = this.require(id);
    const current = this.byDevice.get(deviceId);
    if (current?.patientId === id) return p;
    if (current) throw new CensusError(`device ${deviceId} is assigned to patient ${current.patientId}; unassign it first`, 409);
    const next = { ...p, devices: [...p.devices, deviceId] };
    this.patients.set(id, next);
    this.byDevice.set(deviceId, { patientId: id, ward: p.ward, bed: p.bed });
    await this.changed();
    return next;
  }

  async unassign(id: string, deviceId: string): Promise<Patient> {
    const p = this.require(id);
    if (!p.devices.includes(deviceId)) throw new CensusError(`device ${deviceId} is not assigned to patient ${id}`, 404);
    const next = { ...p, devices: p.devices.filter((d) => d !== deviceId) };
    this.patients.set(id, next);
    this.byDevice.delete(deviceId);
    await this.changed();
    return next;
  }

  /**
   * Changes a patient's clinical settings: each setting given (`spo2Scale`, `limits`) replaces
   * the patient's own in full (limits not listed are back to the ward defaults); one not given
   * stays as it is.
   */
  async updateSettings(id: string, settings: PatientSettings): Promise<Patient> {
    const p = this.require(id);
    const next = { ...p, settings: { ...p.settings, ...settings } };
    this.patients.set(id, next);
    await this.changed(id);
    return next;
  }

  private require(id: string): Patient {
    const p = this.patients.get(id);
    if (!p) throw new CensusError(`no admitted patient ${id}`, 404);
    return p;
  }

  /** Validates and indexes one patient; throws CensusError without changing state. */
  private insert(p: Patient): void {
    const ward = this.wards.get(p.ward);
    if (!ward) throw new CensusError(`patient ${p.id}: unknown ward "${p.ward}" (known: ${[...this.wards.keys()].join(', ') || 'none'})`, 400);
    if (!ward.beds.includes(p.bed)) throw new CensusError(`patient ${p.id}: ward ${p.ward} has no bed "${p.bed}"`, 400);
    const occupant = this.byBed.get(`${p.ward}/${p.bed}`);
    if (occupant !== undefined && occupant !== p.id) throw new CensusError(`bed ${p.ward}/${p.bed} is taken by patient ${occupant}`, 409);
    for (const d of p.devices) {
      const owner = this.byDevice.get(d);
      if (owner && owner.patientId !== p.id) throw new CensusError(`device ${d} is assigned to patient ${owner.patientId}`, 409);
    }
    this.patients.set(p.id, p);
    this.byBed.set(`${p.ward}/${p.bed}`, p.id);
    for (const d of p.devices) this.byDevice.set(d, { patientId: p.id, ward: p.ward, bed: p.bed });
  }

  /** Saves the census, then tells the hooks about `patientId` (when its placement or settings changed) and the listeners. */
  private async changed(patientId?: string): Promise<void> {
    if (this.file) await writeJsonAtomic(this.file, { version: 1, patients: [...this.patients.values()] } satisfies PersistedCensus);
    if (patientId !== undefined) for (const hook of this.hooks) await hook(patientId, this.patients.get(patientId));
    this.emit('change', this.snapshot());
  }
}
