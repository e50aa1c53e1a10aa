/**
 * Passwords of nurse-station accounts, stored as scrypt hashes in the same format as device
 * secrets (`scrypt$N$r$p$salt$hash`), but with a cost meant for passwords people choose.
 */
import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import { checkHashFormat, verifySecret } from '../broker/secrets.js';

const KEYLEN = 32;
/** N = 2^15, r = 8: 32 MiB and about 0.1 s per hash on a small ward box. */
const COST = { N: 32_768, r: 8, p: 1 } as const;
const MAXMEM = 256 * COST.N * COST.r;

/** Shortest password accepted by `vigil user add`, characters. */
export const MIN_PASSWORD_LENGTH = 10;

/** Hashes a password for `web.users[].passwordHash` or the users file. */
export function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, KEYLEN, { ...COST, maxmem: MAXMEM }, (err, key) =>
      err ? reject(err) : resolve(`scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`),
    ),
  );
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
    await verifySecret(password, await decoy);
    return false;
  }
  return verifySecret(password, stored);
}

/** A random password for a new account (16 characters, base64url). */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}
