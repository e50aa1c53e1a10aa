/**
 * Second stage of config validation: names that must match something this build knows (device
 * profiles) and secrets that must parse. Every problem is collected and reported at once, each
 * naming its setting, like the schema's own errors.
 */
import type { VigilConfig } from './schema.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { SerialProfile } from '../core/profile.js';
import { findProfile, listProfiles } from '../../devices/registry.js';
import type { BrokerConsumer, BrokerDevice } from '../broker/broker.js';
import { checkHashFormat } from '../core/scrypt.js';
import type { IngestPortConfig } from '../sources/serial-ingest.js';

/** A serial port of the config with its profile found. */
export type ResolvedPort = IngestPortConfig;

export interface ResolvedDevices {
  readonly devices: Map<string, BrokerDevice>;
  readonly consumers: Map<string, BrokerConsumer>;
  readonly ports: ResolvedPort[];
}

const names = (transport?: 'mqtt' | 'serial') =>
  listProfiles()
    .filter((p) => transport === undefined || p.transport === transport)
    .map((p) => p.name)
    .join(', ');

/** @throws ConfigError listing every problem. Warns (does not fail) about plain-text secrets. */
export function resolveDevices(config: VigilConfig, logger: Logger): ResolvedDevices {
  const problems: string[] = [];
  const devices = new Map<string, BrokerDevice>();
  config.devices.forEach((d, i) => {
    const profile = findProfile(d.profile);
    if (!profile) problems.push(`devices[${i}].profile: unknown profile "${d.profile}" (known: ${names()})`);
    else if (profile.transport !== 'mqtt') problems.push(`devices[${i}].profile: "${d.profile}" is a ${profile.transport} profile; list it under serial:`);
    if (d.secretHash !== undefined) {
      const why = checkHashFormat(d.secretHash);
      if (why) problems.push(`devices[${i}].secretHash: ${why}`);
    } else {
      logger.warn({ device: d.id }, `devices[${i}].secret is stored in plain text; prefer secretHash (vigil device add)`);
    }
    if (profile) devices.set(d.id, { id: d.id, profile, trustDeviceTime: d.trustDeviceTime, ...(d.secretHash !== undefined ? { secretHash: d.secretHash } : { secret: d.secret! }) });
  });

  const consumers = new Map<string, BrokerConsumer>();
  config.mqtt.consumers.forEach((x, i) => {
    const why = x.secretHash !== undefined ? checkHashFormat(x.secretHash) : null;
    if (why) problems.push(`mqtt.consumers[${i}].secretHash: ${why}`);
    consumers.set(x.id, { id: x.id, topics: x.topics, ...(x.secretHash !== undefined ? { secretHash: x.secretHash } : { secret: x.secret! }) });
  });

  const ports = config.serial.flatMap((s, i): ResolvedPort[] => {
    const profile = findProfile(s.profile);
    if (!profile || profile.transport !== 'serial') {
      problems.push(`serial[${i}].profile: "${s.profile}" is not a serial profile (known: ${names('serial')})`);
      return [];
    }
    const { profile: _name, ...line } = s;
    return [{ ...line, profile: profile as SerialProfile }];
  });

  if (problems.length > 0) throw new ConfigError(`config: ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`, problems);
  return { devices, consumers, ports };
}
