/**
 * Technical alarms per device: sensor off or poor, pulse lost, signal loss, device offline, low
 * battery, unassigned device. [IEC 60601-1-8] these are technical, not physiological, alarms.
 *
 * Sensor conditions (sensor off, poor signal, pulse lost) have an alarm condition delay
 * (`technical.sensorOffDelaySeconds`…): the device must keep flagging the sensor that long before
 * the alarm is raised, so a 3-second motion artifact tells nobody anything. While flagged, the
 * sensor is *pending*: its non-good values are ignored (they move no physiological state) and
 * nothing else changes. Once the alarm is raised the sensor is *suppressed*: its physiological
 * alarms are held and the technical alarm is shown instead (`onSuppress`). The condition ends on
 * `sensor_ok` or on the device's next good-quality vital sign; a suppressed sensor is then
 * released (`onRelease`). The alarm ends through the manager's flap hold, and a condition that
 * returns while its alarm is still shown continues it at once.
 *
 * Signal loss is for a device that went silent: a device that sends continuous signals and then
 * nothing at all — no values of any quality and no sensor state — for `signalLossSeconds`. A
 * device flagging its sensor is alive and says why it has no values; that is its own alarm.
 */
import { metricInfo } from '../core/metrics.js';
import type { Observation, TechnicalEvent, TechnicalKind } from '../core/types.js';
import { secs, type AlarmCondition, type DetectorContext } from './context.js';

/** Technical alarm conditions, one alarm each per device. */
type Condition = keyof DetectorContext['config']['technical']['priorities'];
type SensorCondition = 'sensor_off' | 'sensor_poor' | 'pulse_lost';

const SENSOR: readonly SensorCondition[] = ['sensor_off', 'sensor_poor', 'pulse_lost'];
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

interface SensorState {
  phase: 'pending' | 'active';
  cond: AlarmCondition;
  patientId?: string;
  /** what the device reported, for the alarm's reason once the delay runs out */
  reason: string;
}

interface DeviceState {
  /** raised alarms other than sensor conditions */
  active: Map<Condition, AlarmCondition>;
  sensor: Map<SensorCondition, SensorState>;
  /** the patient whose continuous signals it sends, once it has sent any */
  streams?: string;
  /** the patient a pending signal-loss deadline is for */
  lossPatient?: string;
}

/** Everything the detector holds, as JSON data. */
export type TechnicalDetectorState = ReadonlyArray<
  readonly [string, { active: Array<[Condition, AlarmCondition]>; sensor: Array<[SensorCondition, SensorState]>; streams?: string; lossPatient?: string }]
>;

/** Called when a device's sensor becomes suppressed or is released. */
export type SensorHook = (patientId: string, deviceId: string, t: number, reason: string) => void;

export class TechnicalDetector {
  private readonly devices = new Map<string, DeviceState>();
  /** Each device's signal-loss deadline key, made once. */
  private readonly lossKeys = new Map<string, string>();

  /**
   * @param onSuppress a sensor condition was raised: hold the device's physiological alarms
   * @param onRelease the device's last sensor condition ended
   */
  constructor(
    private readonly ctx: DetectorContext,
    private readonly onSuppress: SensorHook,
    private readonly onRelease: SensorHook,
  ) {}

  /** True while the device flags its sensor (pending or raised): its values confirm nothing. */
  isFlagged(deviceId: string): boolean {
    return (this.devices.get(deviceId)?.sensor.size ?? 0) > 0;
  }

  /** True while a sensor condition's alarm is raised: the device's physiological alarms are held. */
  isSuppressed(deviceId: string): boolean {
    const d = this.devices.get(deviceId);
    return d !== undefined && [...d.sensor.values()].some((s) => s.phase === 'active');
  }

  /** Any observation (any quality, even one sent late) shows the device is alive. */
  onContact(obs: Observation, t: number): void {
    const dev = obs.deviceId;
    // (looked up first: this runs for every value, and a reason is text to build)
    const raised = (this.devices.get(dev)?.active.size ?? 0) > 0;
    if (raised) this.end(dev, 'device_offline', t, 'data received');
    if (obs.patientId !== undefined) {
      if (raised) this.end(dev, 'unassigned_device', t, `assigned to ${obs.patientId}`);
      if (CONTINUOUS.has(obs.metric)) {
        this.device(dev).streams = obs.patientId;
        this.alive(dev, t, 'data received again');
      }
    }
  }

  /** A current observation: the device is alive, a good vital sign is a working sensor, battery levels. */
  onObservation(obs: Observation, t: number): void {
    const dev = obs.deviceId;
    this.onContact(obs, t);
    // a good vital sign is a working sensor; a battery reading says nothing about the sensor
    if (obs.quality === 'good' && metricInfo(obs.metric).clinical && (this.devices.get(dev)?.sensor.size ?? 0) > 0) {
      for (const c of SENSOR) this.endSensor(dev, c, t, `good signal from ${dev}`);
    }
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
        // the device is alive and says why it sends no usable values
        if (this.devices.get(dev)?.streams !== undefined) this.alive(dev, t, `${TEXT[kind]} reported`);
        this.startSensor(at, kind, `${TEXT[kind]} on ${dev}${detail}`);
        return;
      case 'sensor_ok':
        for (const c of SENSOR) this.endSensor(dev, c, t, `sensor ok on ${dev}`);
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
      case 'format_mismatch':
        // no usable data reaches Vigil, as if offline; its next reading or a reopen ends it
        this.start(at, 'device_offline', `device data not understood: ${dev}${detail}`);
        return;
    }
  }

  /**
   * A deadline of this detector fell due: a sensor condition outlasted its delay
   * (`sensor|DEVICE|condition`), or a device stayed silent (`signal-loss|DEVICE`).
   */
  due(key: string, at: number): void {
    if (key.startsWith('sensor|')) {
      const bar = key.lastIndexOf('|');
      const dev = key.slice('sensor|'.length, bar);
      const c = key.slice(bar + 1) as SensorCondition;
      const st = this.devices.get(dev)?.sensor.get(c);
      if (st?.phase === 'pending') this.raiseSensor(dev, st, at, `${st.reason} for ${secs(this.sensorDelayMs(c))}`);
      return;
    }
    const dev = key.slice('signal-loss|'.length);
    const patientId = this.devices.get(dev)?.lossPatient;
    // a flagged sensor explains the missing values: its own alarm covers it
    if (patientId === undefined || this.isFlagged(dev)) return;
    const ms = this.ctx.config.technical.signalLossSeconds * 1000;
    this.start({ ts: at, deviceId: dev, patientId }, 'signal_loss', `no data from ${dev} for ${secs(ms)}`);
  }

  /**
   * Forgets what concerns a discharged patient: the state of the devices that streamed for them
   * or whose conditions were theirs (their alarms are ended by the manager), with its deadlines.
   */
  forgetPatient(patientId: string): void {
    for (const [dev, d] of [...this.devices]) {
      const theirs = d.streams === patientId || d.lossPatient === patientId || [...d.active.values(), ...[...d.sensor.values()].map((x) => x.cond)].some((c) => c.patientId === patientId);
      if (!theirs) continue;
      for (const c of d.sensor.keys()) this.ctx.clock.cancel(`sensor|${dev}|${c}`);
      this.ctx.clock.cancel(`signal-loss|${dev}`);
      this.devices.delete(dev);
    }
  }

  snapshot(): TechnicalDetectorState {
    return [...this.devices].map(([id, d]) => [
      id,
      structuredClone({ active: [...d.active], sensor: [...d.sensor], ...(d.streams !== undefined && { streams: d.streams }), ...(d.lossPatient !== undefined && { lossPatient: d.lossPatient }) }),
    ]);
  }

  restore(s: TechnicalDetectorState): void {
    this.devices.clear();
    for (const [id, d] of structuredClone(s)) {
      this.devices.set(id, { active: new Map(d.active), sensor: new Map(d.sensor), ...(d.streams !== undefined && { streams: d.streams }), ...(d.lossPatient !== undefined && { lossPatient: d.lossPatient }) });
    }
  }

  /** The device sent something: signal loss ends, and its deadline starts again. */
  private alive(dev: string, t: number, reason: string): void {
    const d = this.devices.get(dev);
    const patientId = d?.streams;
    if (d === undefined || patientId === undefined) return;
    if (d.active.size > 0) this.end(dev, 'signal_loss', t, reason);
    d.lossPatient = patientId;
    let key = this.lossKeys.get(dev);
    if (key === undefined) this.lossKeys.set(dev, (key = `signal-loss|${dev}`));
    this.ctx.clock.set(key, t + this.ctx.config.technical.signalLossSeconds * 1000);
  }

  private sensorDelayMs(c: SensorCondition): number {
    const cfg = this.ctx.config.technical;
    const s = c === 'sensor_off' ? cfg.sensorOffDelaySeconds : c === 'sensor_poor' ? cfg.sensorPoorDelaySeconds : cfg.pulseLostDelaySeconds;
    return s * 1000;
  }

  private startSensor(ev: Omit<TechnicalEvent, 'kind'>, c: SensorCondition, reason: string): void {
    const d = this.device(ev.deviceId);
    if (d.sensor.has(c)) return;
    const st: SensorState = { phase: 'pending', cond: this.condition(ev, c), reason, ...(ev.patientId !== undefined && { patientId: ev.patientId }) };
    d.sensor.set(c, st);
    const delay = this.sensorDelayMs(c);
    // [IEC 60601-1-8] alarm condition delay; a condition back while its alarm is still shown
    // (the flap hold) continues that alarm at once
    if (delay <= 0 || this.ctx.alarms.isShown(st.cond)) {
      this.raiseSensor(ev.deviceId, st, ev.ts, reason);
      return;
    }
    this.ctx.clock.set(`sensor|${ev.deviceId}|${c}`, ev.ts + delay);
  }

  private raiseSensor(dev: string, st: SensorState, t: number, reason: string): void {
    const wasSuppressed = this.isSuppressed(dev);
    st.phase = 'active';
    this.ctx.alarms.raise(st.cond, t, reason);
    if (!wasSuppressed && st.patientId !== undefined) this.onSuppress(st.patientId, dev, t, `suppressed: ${reason}`);
  }

  private endSensor(dev: string, c: SensorCondition, t: number, reason: string): void {
    const d = this.devices.get(dev);
    const st = d?.sensor.get(c);
    if (!d || !st) return;
    d.sensor.delete(c);
    if (st.phase === 'pending') {
      this.ctx.clock.cancel(`sensor|${dev}|${c}`);
      return;
    }
    this.ctx.alarms.clear(st.cond, t, reason);
    if (!this.isSuppressed(dev) && st.patientId !== undefined) this.onRelease(st.patientId, dev, t, reason);
  }

  private condition(ev: Omit<TechnicalEvent, 'kind'>, c: Condition): AlarmCondition {
    return {
      // route to where the patient is (the event may not know the bed)
      ...(ev.patientId !== undefined && this.ctx.placement(ev.patientId)),
      name: `technical:${ev.deviceId}:${c}`,
      kind: 'technical',
      priority: this.ctx.config.technical.priorities[c],
      deviceId: ev.deviceId,
    };
  }

  private start(ev: Omit<TechnicalEvent, 'kind'>, c: Condition, reason: string, value?: number): void {
    const d = this.device(ev.deviceId);
    if (d.active.has(c)) return;
    const cond = this.condition(ev, c);
    d.active.set(c, cond);
    this.ctx.alarms.raise(cond, ev.ts, reason, value);
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
      d = { active: new Map(), sensor: new Map() };
      this.devices.set(id, d);
    }
    return d;
  }
}
