import { describe, expect, it } from 'vitest';
import { Counters } from '../../../src/core/counters.js';

describe('Counters', () => {
  it('gives messages and observations by transport as counted, and 0 for nothing yet', async () => {
    const c = new Counters();
    expect(await c.registry.getSingleMetricAsString('vigil_messages_total')).not.toMatch(/transport=/);
    for (let k = 0; k < 3; k++) c.message('mqtt');
    c.message('serial');
    c.observation('mqtt', 5, false);
    c.observation('mqtt', 4, true);
    c.observation('serial', 1, false);
    const text = await c.registry.metrics();
    expect(text).toContain('vigil_messages_total{transport="mqtt"} 3');
    expect(text).toContain('vigil_messages_total{transport="serial"} 1');
    expect(text).toContain('vigil_observations_total{transport="mqtt"} 9');
    expect(text).toContain('vigil_observations_total{transport="serial"} 1');
    expect(text).toContain('vigil_unassigned_observations_total 4');
    // read again: the same, not counted twice
    c.message('mqtt');
    expect(await c.registry.metrics()).toContain('vigil_messages_total{transport="mqtt"} 4');
    expect(await c.registry.getSingleMetricAsString('vigil_messages_total')).toContain('# TYPE vigil_messages_total counter');
  });
});
