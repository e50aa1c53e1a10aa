/**
 * Passwords of nurse-station accounts, stored as scrypt hashes in the same format as device
 * secrets (`scrypt$N$r$p$salt$hash`), but with a cost meant for passwords people choose.
 */
import { randomBytes } from 'node:crypto';
import { checkHashFormat, scryptHash, verifyScrypt } from '../core/scrypt.js';

/** N = 2^15, r = 8: 32 MiB and about 0.1 s per hash on a small ward box. */
const COST = { N: 32_768, r: 8, p: 1 } as const;

/** Shortest password accepted by `vigil user add`, characters. */
export const MIN_PASSWORD_LENGTH = 10;

/** Hashes a password for `web.users[].passwordHash` or the users file. */
export function hashPassword(password: string): Promise<string> {
  return scryptHash(password, COST);
}

/** A hash no password matches, checked for unknown usernames so timing does not reveal them. */
let decoy: Promise<string> | undefined;

/**
 * Verifies a password; `stored` undefined (unknown user) still costs one scrypt.
 * @returns true only for a known user with the right password.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (stored === undefined || checkHashFormat(stored) !== null) {
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyScrypt(password, await decoy);
    return false;
  }
  return verifyScrypt(password, stored);
}

/** A random password for a new account (16 characters, base64url). */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}
