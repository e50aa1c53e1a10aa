import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const shim = resolve('dist/src/core/quiet-debug.js');
const here = resolve('dist/src/core/here.js');

/**
 * Loads the shim, then the MQTT codec, in a process of its own (module caches are per process),
 * parses a PUBLISH, and reports the packet, the codec's logger and what was logged.
 */
function run(env: NodeJS.ProcessEnv): { packet: string; logger: string; stderr: string } {
  const script = `
    await import(${JSON.stringify(shim)});
    const { createRequire } = await import('node:module');
    const codecPath = createRequire(${JSON.stringify(here)}).resolve('mqtt-packet');
    const codec = createRequire(codecPath)('mqtt-packet');
    const parser = codec.parser();
    let packet = '';
    parser.on('packet', (p) => (packet = p.cmd + ' ' + p.topic + ' ' + p.payload.toString()));
    parser.parse(codec.generate({ cmd: 'publish', topic: 'vigil/v1/dev/wb-1/obs', payload: '{"obs":{"hr":70}}', qos: 1, messageId: 7 }));
    const logger = createRequire(codecPath)('debug')('mqtt-packet:parser');
    // a logger of the debug package itself has useColors; the one that does nothing has not
    console.log(JSON.stringify({ packet, logger: [logger.enabled, logger.namespace, 'useColors' in logger ? 'debug' : 'nothing'].join(' ') }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return { ...(JSON.parse(r.stdout) as { packet: string; logger: string }), stderr: r.stderr };
}

describe('quiet-debug', () => {
  it('leaves the codec working, and its loggers off, doing nothing', () => {
    const r = run({});
    expect(r.packet).toBe('publish vigil/v1/dev/wb-1/obs {"obs":{"hr":70}}');
    expect(r.logger).toBe('false mqtt-packet:parser nothing');
    expect(r.stderr).toBe('');
  });

  it('changes nothing when DEBUG asks for the codec’s log', () => {
    const r = run({ DEBUG: 'mqtt-packet:*' });
    expect(r.packet).toBe('publish vigil/v1/dev/wb-1/obs {"obs":{"hr":70}}');
    expect(r.logger).toBe('true mqtt-packet:parser debug');
    expect(r.stderr).toContain('mqtt-packet:parser');
  });
});
