/**
 * Technical alarms per device: sensor off or poor, pulse lost, signal loss, device offline, low
 * battery, unassigned device. [IEC 60601-1-8] these are technical, not physiological, alarms.
 *
 * Gating: while a device's sensor is off, poor or has lost the pulse, its values drive no
 * physiological alarm (the pipeline drops them) and the technical alarm is shown instead. The
 * gate lifts on `sensor_ok` or on the device's next good-quality value.
 */
import type { Observation, TechnicalEvent, TechnicalKind } from '../core/types.js';
import type { AlarmCondition } from '../alarms/manager.js';
import { secs, type DetectorContext } from './context.js';

/** Technical alarm conditions, one alarm each per device. */
type Condition = keyof DetectorContext['config']['technical']['priorities'];

const GATES: readonly Condition[] = ['sensor_off', 'sensor_poor', 'pulse_lost'];
/** Metrics a device streams continuously; only such devices can lose their signal. */
const CONTINUOUS = new Set(['hr', 'pr', 'spo2', 'rr']);

const TEXT: Record<Condition, string> = {
  sensor_off: 'sensor off',
  sensor_poor: 'poor signal',
  pulse_lost: 'pulse lost',
  signal_loss: 'no data',
  device_offline: 'device offline',
  battery_low: 'battery low',
  unassigned_device: 'device not assigned to a patient',
};

interface DeviceState {
  active: Map<Condition, AlarmCondition>;
}

export class TechnicalDetector {
  private readonly devices = new Map<string, DeviceState>();

  /**
   * @param onGate called when a device's sensor gate closes, so physiological detectors drop
   *   what came from it
   */
  constructor(
    private readonly ctx: DetectorContext,
    private readonly onGate: (patientId: string, deviceId: string, t: number, reason: string) => void,
  ) {}

  /** True while the device's values must not drive physiological alarms. */
  isGated(deviceId: string): boolean {
    const d = this.devices.get(deviceId);
    return d !== undefined && GATES.some((g) => d.active.has(g));
  }

  /** Any observation (any quality) shows the device is alive. */
  onObservation(obs: Observation, t: number): void {
    const dev = obs.deviceId;
    this.end(dev, 'device_offline', t, 'data received');
    if (obs.patientId !== undefined) {
      this.end(dev, 'unassigned_device', t, `assigned to ${obs.patientId}`);
      if (CONTINUOUS.has(obs.metric)) {
        this.end(dev, 'signal_loss', t, 'data received again');
        const ms = this.ctx.config.technical.signalLossSeconds * 1000;
        const ev = { ts: t, deviceId: dev, patientId: obs.patientId };
        this.ctx.clock.set(`signal-loss|${dev}`, t + ms, (at) => this.start({ ...ev, ts: at }, 'signal_loss', `no data from ${dev} for ${secs(ms)}`));
      }
    }
    if (obs.quality === 'good') for (const g of GATES) this.end(dev, g, t, `good signal from ${dev}`);
    if (obs.metric === 'battery') {
      const low = this.ctx.config.technical.lowBatteryPercent;
      if (obs.value < low) this.start({ ...obs, ts: t }, 'battery_low', `battery ${obs.value} % on ${dev}`, obs.value);
      else if (obs.value >= low + 5) this.end(dev, 'battery_low', t, `battery ${obs.value} % on ${dev}`);
    }
  }

  /** A technical event from a device or a source. */
  onEvent(ev: TechnicalEvent, t: number): void {
    const at = { ...ev, ts: t };
    const dev = ev.deviceId;
    const detail = ev.detail ? ` (${ev.detail})` : '';
    const kind: TechnicalKind = ev.kind;
    switch (kind) {
      case 'sensor_off':
      case 'sensor_poor':
      case 'pulse_lost':
        this.start(at, kind, `${TEXT[kind]} on ${dev}${detail}`);
        return;
      case 'sensor_ok':
        for (const g of GATES) this.end(dev, g, t, `sensor ok on ${dev}`);
        return;
      case 'battery_low':
      case 'device_offline':
      case 'unassigned_device':
        this.start(at, kind, `${TEXT[kind]}: ${dev}${detail}`);
        return;
      case 'battery_ok':
        this.end(dev, 'battery_low', t, `battery ok on ${dev}`);
        return;
      case 'device_online':
        this.end(dev, 'device_offline', t, `${dev} back online`);
        return;
    }
  }

  private start(ev: Omit<TechnicalEvent, 'kind'>, c: Condition, reason: string, value?: number): void {
    const d = this.device(ev.deviceId);
    if (d.active.has(c)) return;
    const cond: AlarmCondition = {
      // route to where the patient is (the event may not know the bed)
      ...(ev.patientId !== undefined && this.ctx.placement(ev.patientId)),
      name: `technical:${ev.deviceId}:${c}`,
      kind: 'technical',
      priority: this.ctx.config.technical.priorities[c],
      deviceId: ev.deviceId,
    };
    const wasGated = this.isGated(ev.deviceId);
    d.active.set(c, cond);
    this.ctx.alarms.raise(cond, ev.ts, reason, value);
    if (!wasGated && GATES.includes(c) && ev.patientId !== undefined) {
      this.onGate(ev.patientId, ev.deviceId, ev.ts, `suppressed: ${TEXT[c]} on ${ev.deviceId}`);
    }
  }

  private end(deviceId: string, c: Condition, t: number, reason: string): void {
    const d = this.devices.get(deviceId);
    const cond = d?.active.get(c);
    if (!d || !cond) return;
    d.active.delete(c);
    this.ctx.alarms.clear(cond, t, reason);
  }

  private device(id: string): DeviceState {
    let d = this.devices.get(id);
    if (!d) {
      d = { active: new Map() };
      this.devices.set(id, d);
    }
    return d;
  }
}
