/** What the upstream bridge reports on /metrics, read from its `stats()` (undefined when not configured). */
import type { Counters } from '../core/counters.js';
import type { BridgeStats } from './types.js';

/** Registers the bridge's series; they read 0 while no bridge is configured. */
export function registerBridgeMetrics(c: Counters, stats: () => BridgeStats | undefined): void {
  c.externalCounter('vigil_bridge_published_total', 'Messages acknowledged by the upstream broker', () => stats()?.published ?? 0);
  c.externalCounter('vigil_bridge_failures_total', 'Failed or dropped upstream connections', () => stats()?.failures ?? 0);
  c.gauge('vigil_bridge_lag_records', 'Records not yet forwarded upstream', () => stats()?.lagRecords ?? 0);
  c.gauge('vigil_bridge_connected', '1 when connected to the upstream broker', () => (stats()?.connected ? 1 : 0));
}
