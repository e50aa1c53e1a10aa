#!/usr/bin/env node
/**
 * Writes a first /etc/vigil/vigil.yaml from vigil.example.yaml for an installed gateway, keeping
 * the example's comments: dataDir set to the data directory, the MQTT broker listening on the
 * ward network, nurse-station accounts in a users file (`vigil user add`), and an HTTP API token
 * generated when the HTTP server listens beyond loopback (the config schema requires one then).
 * Used by deploy/install.sh; never overwrites a file.
 *
 *   node deploy/configure.mjs --example vigil.example.yaml --out /etc/vigil/vigil.yaml \
 *     --data-dir /var/lib/vigil --users-file /etc/vigil/users.yaml --mqtt-host 0.0.0.0 \
 *     [--mqtt-port 1883] [--http-host 0.0.0.0] [--http-port 8080]
 *
 * Prints the generated API token on stdout (once) when it made one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const { values } = parseArgs({
  options: {
    example: { type: 'string' },
    out: { type: 'string' },
    'data-dir': { type: 'string', default: '/var/lib/vigil' },
    'users-file': { type: 'string' },
    'mqtt-host': { type: 'string', default: '0.0.0.0' },
    'mqtt-port': { type: 'string', default: '1883' },
    'http-host': { type: 'string', default: '127.0.0.1' },
    'http-port': { type: 'string', default: '8080' },
  },
});
if (!values.example || !values.out) {
  process.stderr.write('usage: configure.mjs --example FILE --out FILE [--data-dir DIR] [--users-file FILE] [--mqtt-host ADDR] [--mqtt-port N] [--http-host ADDR] [--http-port N]\n');
  process.exit(2);
}
if (existsSync(values.out)) {
  process.stderr.write(`${values.out} exists; left unchanged\n`);
  process.exit(0);
}

const doc = parseDocument(readFileSync(values.example, 'utf8'));
doc.set('dataDir', values['data-dir']);
doc.setIn(['mqtt', 'host'], values['mqtt-host']);
doc.setIn(['mqtt', 'port'], Number(values['mqtt-port']));
doc.setIn(['http', 'host'], values['http-host']);
doc.setIn(['http', 'port'], Number(values['http-port']));
if (values['users-file']) doc.setIn(['web', 'usersFile'], values['users-file']);
let token;
if (!LOOPBACK.has(values['http-host'])) {
  token = randomBytes(24).toString('base64url');
  doc.setIn(['http', 'apiToken'], token);
}
// The example's device and patient are placeholders; a real ward starts empty and adds its own.
doc.set('devices', doc.createNode([]));
doc.setIn(['census', 'patients'], doc.createNode([]));
writeFileSync(values.out, doc.toString(), { mode: 0o640, flag: 'wx' });
if (token) process.stdout.write(`${token}\n`);
