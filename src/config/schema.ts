/**
 * The gateway's configuration schema. Defaults live here and nowhere else; the example config
 * (vigil.example.yaml) documents every key. Validation errors name the setting's path.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { metricInfo } from '../core/metrics.js';
import { detectorConfigSchema, LIMIT_METRICS, LIMIT_RANGES, type LimitMetric } from '../detectors/config.js';
import { limitOrderProblems } from '../detectors/limits.js';
import { webhookConfigSchema } from '../sinks/webhook-options.js';
import { bridgeConfigSchema } from '../bridge/config.js';
import { idSchema } from '../core/ids.js';

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

/** One metric's limit overrides, each within the range a limit of that metric may have. */
function limitOverride(metric: LimitMetric) {
  const [min, max] = LIMIT_RANGES[metric];
  const unit = metricInfo(metric).unit;
  const limit = z.number({ error: 'a number' }).check((c) => {
    if (Number.isFinite(c.value) && (c.value < min || c.value > max)) c.issues.push({ code: 'custom', input: c.value, message: `${c.value} is outside ${min}..${max} ${unit}, where a ${metric} limit may lie` });
  });
  return z.strictObject(
    { low: limit.optional(), high: limit.optional(), lowHigh: limit.optional(), highHigh: limit.optional() },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown limit ${iss.keys.map((k) => JSON.stringify(k)).join(', ')} (limits are low, lowHigh, high, highHigh)` : undefined) },
  );
}

/**
 * A patient's clinical settings. Limits are of the metrics with limit alarms only, each within its
 * range; whether they are in order (lowHigh ≤ low < high ≤ highHigh) depends on the ward
 * defaults they are merged with: `limitOrderProblems` (detectors/limits.ts), checked by the
 * config's own refinement and by the census API.
 */
export const patientSettingsSchema = z
  .object({
    spo2Scale: z.union([z.literal(1), z.literal(2)]).optional(),
    limits: z
      .strictObject(
        { spo2: limitOverride('spo2').optional(), hr: limitOverride('hr').optional(), pr: limitOverride('pr').optional(), rr: limitOverride('rr').optional(), sbp: limitOverride('sbp').optional(), temp: limitOverride('temp').optional() },
        { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown metric ${iss.keys.map((k) => JSON.stringify(k)).join(', ')} (limits are set for ${LIMIT_METRICS.join(', ')})` : undefined) },
      )
      .optional(),
  })
  .strict();

export const deviceSchema = z
  .object({
    /** Device id; also the MQTT username and the topic segment `vigil/v1/dev/{id}/…`. */
    id: idSchema,
    /** Decoder profile name (see `vigil profiles`). */
    profile: z.string().default('json-v1'),
    /** Salted hash of the device secret, as printed by `vigil device add`. */
    secretHash: z.string().optional(),
    /** Plain-text secret: accepted for trials, warned about at start. Prefer secretHash. */
    secret: z.string().min(8, 'at least 8 characters').optional(),
    /** Use the device's own clock for observation time (else receive time). */
    trustDeviceTime: z.boolean().default(false),
    /** Free text for people. */
    description: z.string().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.secret === undefined && d.secretHash === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'required (or secretHash)' });
    }
  });

export const serialPortSchema = z
  .object({
    /** Device path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/…. */
    path: z.string().min(1),
    /** Device id the data is tagged with and assigned by in the census. */
    deviceId: idSchema,
    /** Serial profile name (see `vigil profiles`). */
    profile: z.string().min(1),
    baudRate: z.number().int().positive().optional(),
    dataBits: z.union([z.literal(7), z.literal(8)]).optional(),
    parity: z.enum(['none', 'even', 'odd']).optional(),
    stopBits: z.union([z.literal(1), z.literal(2)]).optional(),
    trustDeviceTime: z.boolean().default(false),
  })
  .strict();

export const wardSchema = z
  .object({
    id: idSchema,
    name: z.string().optional(),
    beds: z.array(idSchema).default([]),
  })
  .strict();

export const patientSchema = z
  .object({
    id: idSchema,
    name: z.string().optional(),
    ward: idSchema,
    bed: idSchema,
    devices: z.array(idSchema).default([]),
    settings: patientSettingsSchema.optional(),
  })
  .strict();

/** One person who signs in to the nurse station. */
export const webUserSchema = z
  .object({
    /** Sign-in name. */
    username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits, dot, dash, underscore or @, 1–64 characters'),
    /** Full name shown on screen and in the audit log. */
    name: z.string().max(100).optional(),
    /** nurse: view, acknowledge, silence, manual observations; charge: also alarm limits, census and audit; admin: census and audit. */
    role: z.enum(['nurse', 'charge', 'admin']),
    /** scrypt hash as printed by `vigil user add`. */
    passwordHash: z.string().min(1),
  })
  .strict();

/** The nurse station (web page served on the HTTP port). */
export const webSchema = z
  .object({
    users: z.array(webUserSchema).default([]),
    /** YAML file of more users, managed with `vigil user add --file`; re-read when it changes. */
    usersFile: z.string().min(1).optional(),
    /** Hours a sign-in lasts (a shift). */
    sessionHours: z.number().positive().max(168).default(12),
    /** A continuous signal (HR, SpO2, RR from a wearable or monitor) older than this looks stale on screen, s. */
    continuousStaleSeconds: z.number().int().min(1).default(30),
    /** Mark cookies Secure (set when a TLS proxy fronts the HTTP port). */
    secureCookies: z.boolean().default(false),
    signIn: z
      .object({
        /** Failed sign-ins per username within the window before sign-in is refused (per client address: 5 times this). */
        maxFailures: z.number().int().min(1).default(5),
        /** s */
        windowSeconds: z.number().int().min(1).default(300),
        /** Usernames and addresses the limiter remembers at most (the least recently seen are forgotten first). */
        maxTrackedKeys: z.number().int().min(16).default(10_000),
        /** Password checks (scrypt, 32 MiB each) run at once; 32 more may wait, the rest are answered 503. */
        maxConcurrentChecks: z.number().int().min(1).max(16).default(2),
      })
      .strict()
      .prefault({}),
    /** Live-feed (server-sent events) streams one session may hold open; one more is answered 429. */
    liveStreamsPerSession: z.number().int().min(1).max(100).default(6),
    /** Live-feed streams the gateway holds open in all, every session and the API token together; one more is answered 503. */
    liveStreamsTotal: z.number().int().min(1).max(10_000).default(200),
    /**
     * Sessions one account may hold at once (a person signed in on several stations, phones);
     * signing in once more ends the account's oldest session, its live streams closed, audited.
     */
    sessionsPerAccount: z.number().int().min(1).max(100).default(10),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    /** Where the spool, cursors, census and dead letters live. */
    dataDir: z.string().min(1).default('./.vigil-data'),
    mqtt: z
      .object({
        host: host.default('127.0.0.1'),
        port: port.default(1883),
        tls: z
          .object({
            port: port.default(8883),
            cert: z.string().min(1),
            key: z.string().min(1),
            ca: z.string().optional(),
          })
          .strict()
          .optional(),
        /** Largest accepted MQTT packet, bytes. Larger: the connection is closed and counted. */
        maxPacketBytes: z.number().int().min(256).default(16_384),
        /**
         * Read-only MQTT accounts for nurse-call, paging or integration systems: they may
         * subscribe to the listed topic filters (e.g. vigil/v1/alarms/#) and publish nothing.
         */
        consumers: z
          .array(
            z
              .object({
                id: idSchema,
                secretHash: z.string().optional(),
                secret: z.string().min(8, 'at least 8 characters').optional(),
                topics: z.array(z.string().min(1)).min(1).default(['vigil/v1/alarms/#']),
              })
              .strict()
              .superRefine((d, ctx) => {
                if (d.secret === undefined && d.secretHash === undefined) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'required (or secretHash)' });
              }),
          )
          .default([]),
        /** Per-device message rate limit (token bucket), shared by all of a device's connections. */
        rate: z
          .object({
            messagesPerSecond: z.number().positive().default(20),
            burst: z.number().int().positive().default(40),
          })
          .strict()
          .prefault({}),
        /** What one client, address or account may cost the broker (README, Security). */
        limits: z
          .object({
            /** Open connections in total, authenticated or not. */
            maxConnections: z.number().int().min(1).default(2000),
            /** Open connections from one client address (a hub or NAT may front several devices). */
            connectionsPerAddress: z.number().int().min(1).default(200),
            /** Live connections one device or consumer account may hold. */
            connectionsPerAccount: z.number().int().min(1).default(4),
            /** Client ids one account may hold, connected or kept as a persistent session. */
            sessionsPerAccount: z.number().int().min(1).default(8),
            /** QoS 1 and 2 messages kept for one persistent session while its client is away or has not acknowledged them; past it, the oldest gives way. */
            queuedPerSession: z.number().int().min(1).default(1000),
            /** s from connecting until the MQTT CONNECT must have arrived. */
            connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
            /** Bytes all connections may hold in unfinished or not-yet-processed packets together. */
            bufferedBytes: z.number().int().min(65_536).default(8_388_608),
            /** Failed authentications from one address within the window; past it, refused without checking. */
            authFailuresPerAddress: z.number().int().min(1).default(20),
            /** s */
            authFailureWindowSeconds: z.number().int().min(1).default(60),
            /** Device-secret checks (scrypt) run at once. */
            maxConcurrentAuthChecks: z.number().int().min(1).max(16).default(2),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        host: host.default('127.0.0.1'),
        port: port.default(8080),
        /** Bearer token for the census and admin API. Required when host is not loopback. */
        apiToken: z.string().min(16, 'at least 16 characters').optional(),
        /** HTTP connections open at once; more are closed as they come. Below the process's file limit, beside mqtt.limits.maxConnections. */
        maxConnections: z.number().int().min(8).max(65_536).default(256),
        /** HTTP connections open at once from one address (a proxy in trustProxy aside). */
        connectionsPerAddress: z.number().int().min(4).max(65_536).default(64),
        /** Seconds a request's headers, and the whole request, may take to arrive. */
        headersTimeoutSeconds: z.number().int().min(1).max(600).default(10),
        requestTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
        /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client; none by default. */
        trustProxy: z.array(z.string().refine(isProxyAddress, 'an IP address, a CIDR range (10.0.0.0/8), or loopback, linklocal, uniquelocal')).default([]),
      })
      .strict()
      .prefault({}),
    devices: z.array(deviceSchema).default([]),
    serial: z.array(serialPortSchema).default([]),
    census: z
      .object({
        wards: z.array(wardSchema).default([]),
        patients: z.array(patientSchema).default([]),
      })
      .strict()
      .prefault({}),
    spool: z
      .object({
        /** Size bound on disk, bytes. At the bound new data is refused (devices keep it). */
        maxBytes: z.number().int().min(1_048_576).default(1_073_741_824),
        segmentBytes: z.number().int().min(65_536).default(16_777_216),
        /** Group-commit window, ms: one fsync for all appends within it. */
        commitIntervalMs: z.number().min(0).max(100).default(2),
        /** Warn (health, metrics, technical alarm) at this fraction of maxBytes. */
        warnRatio: z.number().gt(0).lt(1).default(0.8),
      })
      .strict()
      .prefault({}),
    influx: z
      .object({
        /** InfluxDB base URL, e.g. http://influx:8086. Unset: data stays in the spool. */
        url: z.url().optional(),
        token: z.string().default(''),
        org: z.string().default('vigil'),
        bucket: z.string().default('vigil'),
        batchSize: z.number().int().min(1).max(50_000).default(5000),
        flushIntervalMs: z.number().int().min(10).default(1000),
        maxBackoffMs: z.number().int().min(100).default(30_000),
      })
      .strict()
      .prefault({}),
    /** Upstream MQTT bridge to the hospital's broker; absent: no bridge. */
    bridge: bridgeConfigSchema.optional(),
    /** Alarm sinks besides InfluxDB and the MQTT alarm topics. */
    alarms: z
      .object({
        webhook: webhookConfigSchema.optional(),
        /**
         * Seconds between saves of the alarm state (alarms, acknowledgements, silences,
         * escalations, NEWS2 and the ward view) to `dataDir/state/alarms.json`. A restart loads
         * it and replays the spool after it, so a crash replays at most this much data.
         */
        checkpointSeconds: z.number().min(1).max(3600).default(60),
        /** Confirming each escalation step on its channels (see src/alarms/delivery.ts). */
        delivery: z
          .object({
            /** Seconds an escalation step may take to reach a recipient's station or an MQTT subscriber before it counts as undelivered (a technical alarm). */
            confirmSeconds: z.number().min(1).max(300).default(10),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Detector and alarm settings (limits, delays, NEWS2, trend, technical, escalation). */
    detectors: detectorConfigSchema,
    /** Nurse station: accounts, sessions, sign-in limits. */
    web: webSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    const ids = new Map<string, number>();
    c.devices.forEach((d, i) => {
      const seen = ids.get(d.id);
      if (seen !== undefined) ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate of devices[${seen}].id "${d.id}"` });
      ids.set(d.id, i);
    });
    c.mqtt.consumers.forEach((d, i) => {
      const seen = ids.get(d.id);
      if (seen !== undefined) ctx.addIssue({ code: 'custom', path: ['mqtt', 'consumers', i, 'id'], message: `"${d.id}" is already used by a device` });
    });
    c.serial.forEach((s, i) => {
      const seen = ids.get(s.deviceId);
      if (seen !== undefined) ctx.addIssue({ code: 'custom', path: ['serial', i, 'deviceId'], message: `"${s.deviceId}" is already used by another device` });
      ids.set(s.deviceId, i);
    });
    if (c.mqtt.limits.bufferedBytes < 4 * c.mqtt.maxPacketBytes) {
      ctx.addIssue({ code: 'custom', path: ['mqtt', 'limits', 'bufferedBytes'], message: `must be at least 4 × mqtt.maxPacketBytes (${4 * c.mqtt.maxPacketBytes})` });
    }
    if (c.mqtt.tls && c.mqtt.tls.port === c.mqtt.port && c.mqtt.port !== 0) {
      ctx.addIssue({ code: 'custom', path: ['mqtt', 'tls', 'port'], message: `must differ from mqtt.port (${c.mqtt.port})` });
    }
    const wards = new Map(c.census.wards.map((w) => [w.id, w]));
    const beds = new Map<string, number>();
    const assigned = new Map<string, number>();
    c.census.patients.forEach((p, i) => {
      const ward = wards.get(p.ward);
      if (!ward) {
        ctx.addIssue({ code: 'custom', path: ['census', 'patients', i, 'ward'], message: `unknown ward "${p.ward}" (census.wards has: ${[...wards.keys()].join(', ') || 'none'})` });
        return;
      }
      if (!ward.beds.includes(p.bed)) ctx.addIssue({ code: 'custom', path: ['census', 'patients', i, 'bed'], message: `ward ${p.ward} has no bed "${p.bed}"` });
      const bedKey = `${p.ward}/${p.bed}`;
      const other = beds.get(bedKey);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['census', 'patients', i, 'bed'], message: `bed ${bedKey} is already taken by census.patients[${other}]` });
      beds.set(bedKey, i);
      p.devices.forEach((d, j) => {
        if (!ids.has(d)) ctx.addIssue({ code: 'custom', path: ['census', 'patients', i, 'devices', j], message: `no device "${d}" under devices or serial` });
        const owner = assigned.get(d);
        if (owner !== undefined) ctx.addIssue({ code: 'custom', path: ['census', 'patients', i, 'devices', j], message: `device "${d}" is already on census.patients[${owner}]` });
        assigned.set(d, i);
      });
    });
    c.census.patients.forEach((p, i) => {
      for (const why of limitOrderProblems(c.detectors, p.settings ?? {})) ctx.addIssue({ code: 'custom', path: ['census', 'patients', i, 'settings', ...why.path], message: why.message });
    });
    for (const w of Object.keys(c.detectors.alarms.escalation.wards)) {
      if (!wards.has(w)) ctx.addIssue({ code: 'custom', path: ['detectors', 'alarms', 'escalation', 'wards', w], message: `unknown ward "${w}" (census.wards has: ${[...wards.keys()].join(', ') || 'none'})` });
    }
    const loopback = ['127.0.0.1', 'localhost', '::1'];
    if (!loopback.includes(c.http.host) && c.http.apiToken === undefined) {
      ctx.addIssue({ code: 'custom', path: ['http', 'apiToken'], message: `required when http.host is not loopback (${c.http.host})` });
    }
  });

export type VigilConfig = z.infer<typeof configSchema>;
export type DeviceConfig = z.infer<typeof deviceSchema>;
export type SerialPortConfig = z.infer<typeof serialPortSchema>;
export type PatientConfig = z.infer<typeof patientSchema>;
export type WardConfig = z.infer<typeof wardSchema>;
export type WebUserConfig = z.infer<typeof webUserSchema>;
export type WebConfig = z.infer<typeof webSchema>;

/** What `http.trustProxy` may name: an address, a CIDR range, or one of proxy-addr's named ranges. */
function isProxyAddress(v: string): boolean {
  if (v === 'loopback' || v === 'linklocal' || v === 'uniquelocal') return true;
  const [addr = '', bits, ...rest] = v.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}
