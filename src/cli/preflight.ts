/**
 * What `vigil start` would refuse although the config itself is valid: device profiles and
 * hashes, files it must read (users file, TLS keys), the data directory it must write, the
 * nurse-station pages. `vigil check` runs these checks as the user it runs as, so run it as
 * the service user (`sudo -u vigil vigil check`) to see what the service will see.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import type { VigilConfig } from '../config/schema.js';
import { resolveDevices } from '../config/resolve.js';
import { ConfigError } from '../core/errors.js';
import { log } from '../core/log.js';
import { readUsersFile } from '../web/users.js';
import { publicDir } from '../web/static.js';

/** Problems that stop `vigil start` (errors) and ones it survives but should be fixed (warnings). */
export interface Preflight {
  readonly errors: string[];
  readonly warnings: string[];
}

/** "user vigil (uid 998)", the account these checks ran as. */
export function whoAmI(): string {
  const u = userInfo();
  return `user ${u.username} (uid ${u.uid})`;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'EACCES' ? `permission denied for ${whoAmI()}` : e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message);
}

function readable(setting: string, file: string | undefined, errors: string[]): void {
  if (file === undefined) return;
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    errors.push(`${setting}: cannot read ${file} (${reason(err)})`);
  }
}

/** The first entries under `dir` (itself included) that this user cannot write, at most `limit`. */
function unwritable(dir: string, limit = 3): string[] {
  const found: string[] = [];
  const visit = (p: string): void => {
    if (found.length >= limit) return;
    try {
      accessSync(p, constants.W_OK);
    } catch {
      found.push(p);
      return;
    }
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
      accessSync(p, isDir ? constants.R_OK | constants.X_OK : constants.R_OK);
    } catch {
      found.push(p);
      return;
    }
    if (isDir) for (const e of readdirSync(p)) visit(join(p, e));
  };
  visit(dir);
  return found;
}

function checkDataDir(dataDir: string, errors: string[]): void {
  const dir = resolve(dataDir);
  if (!existsSync(dir)) {
    // start creates it: the nearest existing parent must let us.
    let parent = dirname(dir);
    while (!existsSync(parent) && parent !== dirname(parent)) parent = dirname(parent);
    try {
      accessSync(parent, constants.W_OK | constants.X_OK);
    } catch (err) {
      errors.push(`dataDir: ${dir} does not exist and cannot be created in ${parent} (${reason(err)})`);
    }
    return;
  }
  const bad = unwritable(dir);
  if (bad.length > 0) {
    const owner = statSync(bad[0]!).uid;
    errors.push(`dataDir: ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not writable by ${whoAmI()} (owner uid ${owner}); the gateway writes everything under ${dir}`);
  }
}

/** Runs every check; never throws for a problem it can name. */
export function preflight(c: VigilConfig): Preflight {
  const errors: string[] = [];
  const warnings: string[] = [];
  try {
    // Its warnings (plain-text secrets) are the start log's business, not a refusal.
    resolveDevices(c, log().child({ component: 'check' }, { level: 'silent' }));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors.push(...err.issues);
  }
  if (c.web.usersFile !== undefined) {
    try {
      readUsersFile(c.web.usersFile);
    } catch (err) {
      errors.push(`web.usersFile: ${(err as Error).message.replace(/\(EACCES[^)]*\)/, `(permission denied for ${whoAmI()})`)}`);
    }
  }
  if (c.mqtt.tls) {
    readable('mqtt.tls.cert', c.mqtt.tls.cert, errors);
    readable('mqtt.tls.key', c.mqtt.tls.key, errors);
    readable('mqtt.tls.ca', c.mqtt.tls.ca, errors);
  }
  if (c.bridge?.tls) {
    readable('bridge.tls.ca', c.bridge.tls.ca, errors);
    readable('bridge.tls.cert', c.bridge.tls.cert, errors);
    readable('bridge.tls.key', c.bridge.tls.key, errors);
  }
  checkDataDir(c.dataDir, errors);
  try {
    publicDir();
  } catch (err) {
    errors.push(`nurse station: ${(err as Error).message}`);
  }
  c.serial.forEach((s, i) => {
    // start waits for a missing port (it may be plugged in later), but says so only in its log.
    try {
      accessSync(s.path, constants.R_OK | constants.W_OK);
    } catch (err) {
      warnings.push(`serial[${i}].path: ${s.path}: ${reason(err)}${(err as NodeJS.ErrnoException).code === 'EACCES' ? ' (serial ports belong to the dialout group)' : ''}; the gateway retries until it opens`);
    }
  });
  return { errors, warnings };
}
