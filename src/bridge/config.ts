/**
 * The `bridge:` section of the gateway config: where and what the upstream MQTT bridge
 * forwards. Absent section: no bridge. Defaults live here.
 */
import { z } from 'zod';
import { idSchema } from '../core/ids.js';

export const BRIDGE_FORMATS = ['json', 'fhir', 'hl7'] as const;
export type BridgeFormat = (typeof BRIDGE_FORMATS)[number];

/** Default topic prefix; `{wardId}` is replaced by `bridge.wardId`. */
export const DEFAULT_TOPIC_PREFIX = 'vigil/v1/ward/{wardId}';

export const bridgeConfigSchema = z
  .object({
    /** Hospital broker: `mqtt://host:1883` (TCP) or `mqtts://host:8883` (TLS). */
    url: z
      .string()
      .regex(/^(mqtt|mqtts):\/\/[^\s/]+(:\d+)?\/?$/, 'expected mqtt://host[:port] or mqtts://host[:port]'),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** PEM files for mqtts:// (server CA; client certificate and key for mutual TLS). */
    tls: z
      .object({
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        /** Verify the broker's certificate. Turn off only to diagnose, never in production. */
        rejectUnauthorized: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /** MQTT client id; unique per gateway on the hospital broker. */
    clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash or underscore, 1–64 characters'),
    /** This gateway's ward, used in the topic prefix: an id like the census wards' (core/ids.ts). */
    wardId: idSchema,
    /** Topic prefix; `{wardId}` is replaced. No wildcards, no trailing slash. */
    topicPrefix: z
      .string()
      .min(1)
      .refine((p) => !/[+#\0]/.test(p) && !p.endsWith('/'), 'no +, # or trailing /')
      .default(DEFAULT_TOPIC_PREFIX),
    /** What to forward. */
    forward: z
      .object({
        alarms: z.boolean().default(true),
        observations: z.boolean().default(false),
        technical: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Payload format of alarms and observations (technical events are always JSON). */
    format: z.enum(BRIDGE_FORMATS).default('json'),
    /** Records read from the spool and published per batch (pipelined, QoS 1). */
    batchSize: z.number().int().min(1).max(5000).default(500),
    /** Longest wait for the PUBACKs of a batch before the connection is dropped and the batch resent, ms. */
    publishTimeoutMs: z.number().int().min(100).default(10_000),
    /** Longest backoff between reconnection attempts, ms. */
    maxBackoffMs: z.number().int().min(100).default(30_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.password !== undefined && c.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'required when password is set' });
    }
    if (c.tls && !c.url.startsWith('mqtts://')) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'only used with an mqtts:// url' });
    }
    if ((c.tls?.cert === undefined) !== (c.tls?.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tls', c.tls?.cert === undefined ? 'cert' : 'key'], message: 'cert and key go together' });
    }
  });

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
