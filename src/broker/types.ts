/** The broker's accounts and options, as the gateway hands them over from the config. */
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/log.js';
import type { DeviceProfile } from '../core/profile.js';
import type { Ingest } from '../ingest/ingest.js';
import type { MqttLimits } from './limits.js';

export interface BrokerDevice {
  readonly id: string;
  readonly profile: DeviceProfile;
  readonly secretHash?: string;
  readonly secret?: string;
  readonly trustDeviceTime: boolean;
}

export interface BrokerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly port: number; readonly cert: string; readonly key: string; readonly ca?: string };
  readonly maxPacketBytes: number;
  /** Per-device message rate, shared by all the device's connections. */
  readonly rate: { readonly messagesPerSecond: number; readonly burst: number };
  readonly limits: MqttLimits;
  readonly devices: ReadonlyMap<string, BrokerDevice>;
  readonly consumers?: ReadonlyMap<string, BrokerConsumer>;
  readonly ingest: Ingest;
  readonly counters: Counters;
  readonly logger: Logger;
  /** Epoch-ms clock for rate limiting and receive times. */
  readonly clock?: () => number;
}

/** A read-only account (nurse call, paging, integration) that may subscribe to `topics`. */
export interface BrokerConsumer {
  readonly id: string;
  readonly secretHash?: string;
  readonly secret?: string;
  /** Topic filters it may subscribe to, e.g. `vigil/v1/alarms/#`. */
  readonly topics: readonly string[];
}
