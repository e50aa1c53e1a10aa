/**
 * scrypt hashes in the one format Vigil stores, for device secrets (broker/secrets.ts) and
 * nurse-station passwords (web/passwords.ts): `scrypt$N$r$p$<salt b64url>$<hash b64url>`. Each
 * hash carries its own cost, so hashes made with another cost keep verifying.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Length of the derived key, bytes. */
const KEYLEN = 32;

/** scrypt's cost parameters: CPU/memory cost N (a power of two), block size r, parallelism p. */
export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

function scrypt(secret: string | Buffer, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(secret, salt, KEYLEN, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Bytes scrypt may use for a cost: its working memory (128·N·r) with room to spare. */
function maxmem(cost: ScryptCost): number {
  return 256 * cost.N * cost.r + 1_048_576;
}

/** Hashes a secret with a fresh 16-byte salt. */
export async function scryptHash(secret: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, { ...cost, maxmem: maxmem(cost) });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** @returns a reason when `stored` is not a hash this version understands, else null. */
export function checkHashFormat(stored: string): string | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return 'expected scrypt$N$r$p$salt$hash (generate one with `vigil device add`)';
  const [, n, r, p] = parts.map(Number);
  if (!Number.isInteger(n) || !Number.isInteger(r) || !Number.isInteger(p)) return 'N, r and p must be whole numbers';
  return null;
}

/** Verifies a presented secret against a stored scrypt hash (false for a malformed hash). */
export async function verifyScrypt(presented: string | Buffer, stored: string): Promise<boolean> {
  if (checkHashFormat(stored) !== null) return false;
  const [, n, r, p, salt, hash] = stored.split('$') as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const key = await scrypt(presented, Buffer.from(salt, 'base64url'), { ...cost, maxmem: maxmem(cost) });
  return expected.length === key.length && timingSafeEqual(expected, key);
}
