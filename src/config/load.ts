/**
 * Loads the YAML config, applies environment overrides, and validates it. Every problem is
 * reported as `path: message` (e.g. `devices[2].secret: required`) in one ConfigError.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { configSchema, type VigilConfig } from './schema.js';

/** Environment variables that override file values, and the setting each one sets. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: readonly string[]; type: 'port' | 'string' }> = [
  { env: 'VIGIL_MQTT_PORT', path: ['mqtt', 'port'], type: 'port' },
  { env: 'VIGIL_HTTP_PORT', path: ['http', 'port'], type: 'port' },
  { env: 'VIGIL_DATA_DIR', path: ['dataDir'], type: 'string' },
  { env: 'VIGIL_INFLUX_URL', path: ['influx', 'url'], type: 'string' },
  { env: 'VIGIL_INFLUX_TOKEN', path: ['influx', 'token'], type: 'string' },
  { env: 'VIGIL_INFLUX_ORG', path: ['influx', 'org'], type: 'string' },
  { env: 'VIGIL_INFLUX_BUCKET', path: ['influx', 'bucket'], type: 'string' },
];

/** Formats a zod path the way the config file reads: `devices[2].secret`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `${where}: required`;
  return `${where}: ${issue.message}`;
}

/** Validates an already-parsed object (file contents after env overrides). */
export function validateConfig(raw: unknown, source = 'config'): VigilConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = result.error.issues.map(describeIssue);
    throw new ConfigError(`${source}: ${issues.length} problem${issues.length > 1 ? 's' : ''}:\n  ${issues.join('\n  ')}`, issues);
  }
  return result.data;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Applies VIGIL_* overrides to a raw config object in place. */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): void {
  for (const o of ENV_OVERRIDES) {
    const v = env[o.env];
    if (v === undefined || v === '') continue;
    if (o.type === 'port') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        throw new ConfigError(`${o.env}: "${v}" is not a port number (0–65535)`);
      }
      setPath(raw, o.path, n);
    } else {
      setPath(raw, o.path, v);
    }
  }
}

/** Parses YAML text into a plain object; syntax errors name the line. */
export function parseYaml(text: string, source: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = first.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
    throw new ConfigError(`${source}: YAML syntax error at ${where}: ${first.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${source}: the top level must be a mapping of settings, not ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  // A section whose settings are all commented out parses as null: treat it as absent.
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) if (v === null) delete obj[k];
  return obj;
}

/**
 * Loads config from a file (or from defaults when `file` is undefined), applying env overrides.
 * @throws ConfigError naming the file and every bad setting.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): VigilConfig {
  let raw: Record<string, unknown> = {};
  const source = file ?? 'built-in defaults';
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${file}: cannot read config file (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`);
    }
    raw = parseYaml(text, file);
  }
  applyEnvOverrides(raw, env);
  return validateConfig(raw, source);
}
