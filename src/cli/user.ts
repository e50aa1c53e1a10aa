/**
 * `vigil user`: nurse-station accounts in a users file (`web.usersFile`). The running gateway
 * re-reads the file when it changes, so no restart is needed. Without --file, `add` prints the
 * entry to paste under `web.users:` in the config instead.
 */
import { chmodSync, chownSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Command } from './command.js';
import { parse, UsageError } from './args.js';
import { loadConfig } from '../config/load.js';
import { webUserSchema, type WebUserConfig } from '../config/schema.js';
import { generatePassword, hashPassword, MIN_PASSWORD_LENGTH } from '../web/passwords.js';
import { readUsersFile, writeUsersFile } from '../web/users.js';

const ROLES = ['nurse', 'charge', 'admin'] as const;

/** The users file from --file, or the config's web.usersFile (-c / $VIGIL_CONFIG). */
function usersFile(values: { file?: string; config?: string }): string | undefined {
  if (values.file !== undefined) return resolve(values.file);
  const configFile = values.config ?? process.env.VIGIL_CONFIG;
  if (configFile === undefined) return undefined;
  const file = loadConfig(configFile).web.usersFile;
  if (file === undefined) throw new UsageError(`${configFile} has no web.usersFile; set one or pass --file`);
  return resolve(file);
}

/**
 * Writes the users file so that the gateway's user can still read it. `writeUsersFile` writes
 * 0600 as whoever runs the tool (root, on an installed box), so the result is staged beside
 * the file, given the mode, owner and group of the file it replaces (a new file: 0640 and the
 * group of its directory, so root:vigil in /etc/vigil), then renamed over it in one step.
 * @returns a note when only its owner, root, can read the result.
 */
function saveUsers(file: string, users: readonly WebUserConfig[]): string | undefined {
  const before = statSync(file, { throwIfNoEntry: false });
  const staged = `${file}.new`;
  writeUsersFile(staged, users);
  const group = before?.gid ?? statSync(dirname(file)).gid;
  chmodSync(staged, before ? before.mode & 0o7777 : 0o640);
  try {
    chownSync(staged, process.getuid?.() === 0 ? (before?.uid ?? 0) : -1, group);
  } catch {
    // Not root and not in that group: the file keeps this user's group.
  }
  renameSync(staged, file);
  const after = statSync(file);
  if (after.uid === 0 && (after.mode & 0o044) === 0) {
    return `note: ${file} is readable only by root (mode ${(after.mode & 0o777).toString(8)}); the gateway's user must read it: chgrp vigil ${file} && chmod 0640 ${file}`;
  }
  return undefined;
}

function readPassword(values: { 'password-stdin'?: boolean }): string | undefined {
  if (!values['password-stdin']) return undefined;
  const text = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (text.length < MIN_PASSWORD_LENGTH) throw new UsageError(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
  return text;
}

export const userCommand: Command = {
  name: 'user',
  summary: 'Manage nurse-station accounts (add, remove, list, passwd)',
  help: `Usage:
  vigil user add USERNAME --role nurse|charge|admin [--name "Full Name"] [--password-stdin] [--file FILE | -c CONFIG]
  vigil user passwd USERNAME [--password-stdin] [--file FILE | -c CONFIG]
  vigil user remove USERNAME [--file FILE | -c CONFIG]
  vigil user list [--file FILE | -c CONFIG]

Accounts live in a users file (web.usersFile in the config; the gateway re-reads it when it
changes) or in the config itself (web.users). Passwords are stored as scrypt hashes. Without
--password-stdin a random password is generated and printed once. Without a file, add prints
the entry to paste under web.users: in the config.

Roles: nurse (ward, acknowledge, silence, manual observations), charge (charge nurse: also alarm
limits, census, audit log), admin (census and audit log).

Options:
  --role ROLE        nurse, charge or admin
  --name TEXT        Full name shown on screen and in the audit log
  --password-stdin   Read the password from standard input (at least ${MIN_PASSWORD_LENGTH} characters)
  --file FILE        Users file to change
  -c, --config FILE  Use the config's web.usersFile ($VIGIL_CONFIG)

Example:
  vigil user add nurse.jones --role nurse --name "Sam Jones" --file /etc/vigil/users.yaml`,
  async run(args) {
    const { values, positionals } = parse(args, {
      role: { type: 'string' },
      name: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      file: { type: 'string' },
      config: { type: 'string', short: 'c' },
    }, true);
    const [verb, username, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const file = usersFile(values);
    const out = (s: string) => process.stdout.write(s + '\n');
    const save = (next: readonly WebUserConfig[]): void => {
      const note = saveUsers(file!, next);
      if (note) process.stderr.write(note + '\n');
    };
    if (verb === 'list') {
      if (!file) throw new UsageError('list needs --file or -c');
      for (const u of readUsersFile(file)) out(`${u.username.padEnd(24)} ${u.role.padEnd(7)} ${u.name ?? ''}`);
      return 0;
    }
    if (username === undefined || !['add', 'passwd', 'remove'].includes(verb ?? '')) throw new UsageError('expected: vigil user add|passwd|remove USERNAME, or vigil user list');
    const users = file ? readUsersFile(file) : [];
    const existing = users.find((u) => u.username === username);
    if (verb === 'remove') {
      if (!file) throw new UsageError('remove needs --file or -c');
      if (!existing) throw new UsageError(`no user "${username}" in ${file}`);
      save(users.filter((u) => u !== existing));
      out(`Removed ${username} from ${file}; their sessions end.`);
      return 0;
    }
    const given = readPassword(values);
    const password = given ?? generatePassword();
    const passwordHash = await hashPassword(password);
    if (verb === 'passwd') {
      if (!file) throw new UsageError('passwd needs --file or -c');
      if (!existing) throw new UsageError(`no user "${username}" in ${file}`);
      save(users.map((u) => (u === existing ? { ...u, passwordHash } : u)));
      out(`Password changed for ${username} in ${file}; their sessions end.`);
    } else {
      if (values.role === undefined || !(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
      const candidate = { username, role: values.role, passwordHash, ...(values.name !== undefined ? { name: values.name } : {}) };
      const checked = webUserSchema.safeParse(candidate);
      if (!checked.success) throw new UsageError(`${checked.error.issues[0]?.path.join('.')}: ${checked.error.issues[0]?.message}`);
      const user: WebUserConfig = checked.data;
      if (file) {
        if (existing) throw new UsageError(`user "${username}" already exists in ${file} (use vigil user passwd)`);
        save([...users, user]);
        out(`Added ${username} (${user.role}) to ${file}.`);
      } else {
        out(`# Paste under web: in the config.\n${stringify({ users: [user] })}`);
      }
    }
    if (given === undefined) out(`Password for ${username} (shown once): ${password}`);
    return 0;
  },
};
