/**
 * The benchmark refuses to run when one of its ports is taken, rather than measure whatever
 * answers there: it names the port, starts nothing, and exits non-zero.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { CLI } from '../support/gateway-process.js';

let squatter: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (squatter ? squatter.close(() => r()) : r()));
  squatter = undefined;
});

describe('vigil bench with a port taken', () => {
  it('refuses to start and names the port', async () => {
    const s = (squatter = createServer());
    const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
    // Ask the kernel for three other free ports by binding 0; the taken one is the MQTT port.
    const res = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--free-ports', '--mqtt-port', String(port), '--out', '/tmp/vigil-bench-refused'], { encoding: 'utf8', timeout: 30_000 });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`already in use on 127\\.0\\.0\\.1: mqtt ${port}`));
    expect(res.stderr).toMatch(/refusing to measure something else/);
    expect(res.stderr).not.toMatch(/starting the time-series server/);
  });
});
