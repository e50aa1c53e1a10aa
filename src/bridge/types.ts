/** The upstream bridge's options and statistics. */
import type { ForwardingOptions } from '../sinks/forwarder.js';
import type { BridgeFormat } from './config.js';

/** `stopTimeoutMs` (how long `stop()` lets a batch in flight finish) defaults to 3000 here. */
export interface UpstreamBridgeOptions extends ForwardingOptions {
  /** `mqtt://host:port` (TCP) or `mqtts://host:port` (TLS). */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Paths of PEM files: broker CA, client certificate and key. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** Verify the broker's certificate. Default true. */
  readonly rejectUnauthorized?: boolean;
  readonly clientId: string;
  /** Fills `{wardId}` in the topic prefix. */
  readonly wardId: string;
  /** Default `vigil/v1/ward/{wardId}`. */
  readonly topicPrefix?: string;
  /** Default alarms and technical events, no observations. */
  readonly forward?: { readonly alarms?: boolean; readonly observations?: boolean; readonly technical?: boolean };
  /** Default `json`. */
  readonly format?: BridgeFormat;
  /** Records per batch, published pipelined before the PUBACKs are awaited. Default 500. */
  readonly batchSize?: number;
  /** Longest wait for a batch's PUBACKs before reconnecting, ms. Default 10000. */
  readonly publishTimeoutMs?: number;
  /** CONNACK timeout, ms. Default 10000. */
  readonly connectTimeoutMs?: number;
}

export type BridgeState = 'starting' | 'connecting' | 'backing_off' | 'idle' | 'publishing' | 'stopped';

export interface BridgeStats {
  readonly state: BridgeState;
  readonly connected: boolean;
  /** Messages acknowledged by the upstream broker (PUBACK). */
  readonly published: number;
  /** Batches committed to the cursor. */
  readonly batches: number;
  /** Records not forwarded: their kind is switched off, or the format cannot express them. */
  readonly skipped: number;
  /** Records that could not be encoded (logged with their seq). */
  readonly unencodable: number;
  /** Successful connections after the first. */
  readonly reconnects: number;
  /** Failed connection attempts and dropped connections. */
  readonly failures: number;
  /** Records appended but not yet committed by the bridge. */
  readonly lagRecords: number;
  /** Epoch ms of the last PUBACK. */
  readonly lastPublishAt?: number;
  readonly lastError?: string;
}
