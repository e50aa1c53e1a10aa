import type { Command } from './command.js';
import { parse, UsageError } from './args.js';
import { generateSecret, hashSecret } from '../broker/secrets.js';
import { findProfile, listProfiles } from '../../devices/registry.js';
import { deviceObsTopic } from '../broker/topics.js';
import { idProblem } from '../core/ids.js';

export const deviceCommand: Command = {
  name: 'device',
  summary: 'Create credentials for a device (prints the secret once and the config entry)',
  help: `Usage: vigil device add ID [--profile NAME] [--secret SECRET]

Creates credentials for an MQTT device. Prints the secret (give it to the device; it is not
stored anywhere) and the YAML entry with its scrypt hash to paste under devices: in the config.

Options:
  --profile NAME   Decoder profile (default json-v1). See vigil profiles.
  --secret SECRET  Use this secret instead of a random one (at least 16 characters).
  -h, --help       Show this help.

Example:
  vigil device add wb-07`,
  async run(args) {
    const { values, positionals } = parse(args, { profile: { type: 'string' }, secret: { type: 'string' } }, true);
    const [verb, id, ...rest] = positionals;
    if (verb !== 'add' || id === undefined || rest.length > 0) throw new UsageError('expected: vigil device add ID');
    const bad = idProblem(id);
    if (bad !== null) throw new UsageError(`device id: ${bad}`);
    const profile = values.profile ?? 'json-v1';
    const p = findProfile(profile);
    if (!p || p.transport !== 'mqtt') throw new UsageError(`--profile: "${profile}" is not an MQTT profile (known: ${listProfiles().filter((x) => x.transport === 'mqtt').map((x) => x.name).join(', ')})`);
    if (values.secret !== undefined && values.secret.length < 16) throw new UsageError('--secret: at least 16 characters');
    const secret = values.secret ?? generateSecret();
    const hash = await hashSecret(secret);
    process.stdout.write(
      `# Device ${id}: MQTT username "${id}", password below, topic ${deviceObsTopic(id)}\n` +
        `# Secret (shown once, give it to the device): ${secret}\n` +
        `devices:\n  - id: ${id}\n    profile: ${profile}\n    secretHash: "${hash}"\n`,
    );
    return 0;
  },
};

export const profilesCommand: Command = {
  name: 'profiles',
  summary: 'List the device profiles this build knows',
  help: `Usage: vigil profiles

Lists every device profile (the names used as profile: in the config) with its transport.`,
  async run(args) {
    parse(args, {});
    for (const p of listProfiles()) process.stdout.write(`${p.name.padEnd(18)} ${p.transport.padEnd(7)} ${p.description}\n`);
    return 0;
  },
};
