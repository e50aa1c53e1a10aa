/**
 * Nurse-station accounts: those in the config (`web.users`) plus those in the users file
 * (`web.usersFile`, managed with `vigil user`). The file is re-read when it changes, so an
 * account added or removed from the command line takes effect without a restart.
 */
import { readFileSync, statSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { webUserSchema, type WebUserConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { formatPath } from '../config/load.js';

const fileSchema = z.object({ users: z.array(webUserSchema).default([]) }).strict();

/** Reads a users file; a missing file is an empty list. */
export function readUsersFile(file: string): WebUserConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`${file}: cannot read users file (${(err as Error).message})`);
  }
  const r = fileSchema.safeParse(parse(text) ?? {});
  if (!r.success) throw new ConfigError(`${file}: ${r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  return r.data.users;
}

/** Writes a users file atomically (mode 0600: it holds password hashes). */
export function writeUsersFile(file: string, users: readonly WebUserConfig[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `# Nurse-station accounts, managed with \`vigil user\`.\n${stringify({ users })}`, { mode: 0o600 });
  renameSync(tmp, file);
}

export class UserDirectory {
  private fileUsers: WebUserConfig[] = [];
  private mtimeMs = -1;
  private byName = new Map<string, WebUserConfig>();

  /**
   * @param onRemoved called with each username that disappeared or changed role on a reload.
   */
  constructor(
    private readonly configUsers: readonly WebUserConfig[],
    private readonly file: string | undefined,
    private readonly onRemoved: (username: string) => void = () => {},
    private readonly onBrokenFile: (err: Error) => void = () => {},
  ) {
    this.reload();
  }

  /** The account, re-reading the users file first when it changed. */
  find(username: string): WebUserConfig | undefined {
    this.reload();
    return this.byName.get(username);
  }

  /** Accounts known right now (without reloading). */
  has(username: string): boolean {
    return this.byName.has(username);
  }

  size(): number {
    return this.byName.size;
  }

  /** Every account known right now (without reloading), by username. */
  list(): WebUserConfig[] {
    return [...this.byName.values()].sort((a, b) => a.username.localeCompare(b.username));
  }

  /** The name shown for an account (its username when it has none or is unknown). */
  nameOf(username: string): string {
    return this.byName.get(username)?.name ?? username;
  }

  /** Re-reads the users file when its modification time changed. A broken file keeps the last good list. */
  reload(): void {
    if (this.file !== undefined) {
      let mtime = 0;
      try {
        mtime = statSync(this.file).mtimeMs;
      } catch {
        mtime = 0;
      }
      if (mtime !== this.mtimeMs) {
        const first = this.mtimeMs === -1;
        try {
          this.fileUsers = readUsersFile(this.file);
        } catch (err) {
          if (first) throw err;
          this.onBrokenFile(err as Error);
        }
        this.mtimeMs = mtime;
      }
    }
    const next = new Map<string, WebUserConfig>();
    for (const u of [...this.configUsers, ...this.fileUsers]) next.set(u.username, u);
    for (const [name, old] of this.byName) {
      const now = next.get(name);
      if (!now || now.role !== old.role || now.passwordHash !== old.passwordHash) this.onRemoved(name);
    }
    this.byName = next;
  }
}
