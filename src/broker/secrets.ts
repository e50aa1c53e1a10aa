/**
 * Device secrets are stored as scrypt hashes: `scrypt$N$r$p$<salt b64url>$<hash b64url>`.
 * Verification results are cached per device (keyed by a SHA-256 of the presented secret, held
 * only in memory) so a ward's devices reconnecting at once after a restart cost one scrypt each.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { scryptHash, verifyScrypt } from '../core/scrypt.js';

/** Cost parameters: modest N because device secrets are long random tokens, not passwords. */
const DEFAULT = { N: 4096, r: 8, p: 1 } as const;

/** Hashes a secret for the config's `secretHash`. */
export function hashSecret(secret: string): Promise<string> {
  return scryptHash(secret, DEFAULT);
}

/** A random secret suitable for a device (32 bytes, base64url). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Checks device credentials, remembering successes so reconnect storms stay cheap. */
export class SecretVerifier {
  private readonly cache = new Map<string, Buffer>();

  /**
   * @param lookup returns `{ hash }` or `{ plain }` for a known device, undefined for unknown.
   */
  constructor(private readonly lookup: (deviceId: string) => { hash?: string; plain?: string } | undefined) {}

  /** True when checking this account's secret costs a scrypt (a stored hash). */
  hashes(deviceId: string): boolean {
    return this.lookup(deviceId)?.hash !== undefined;
  }

  /** True when this device presented this very secret before and it was right (no scrypt needed). */
  remembers(deviceId: string, presented: Buffer | undefined): boolean {
    if (!presented || presented.length === 0 || !this.lookup(deviceId)) return false;
    const cached = this.cache.get(deviceId);
    return cached !== undefined && timingSafeEqual(cached, digestOf(deviceId, presented));
  }

  async verify(deviceId: string, presented: Buffer | undefined): Promise<'ok' | 'unknown_device' | 'bad_secret'> {
    const entry = this.lookup(deviceId);
    if (!entry) return 'unknown_device';
    if (!presented || presented.length === 0) return 'bad_secret';
    if (this.remembers(deviceId, presented)) return 'ok';
    let ok: boolean;
    if (entry.hash !== undefined) ok = await verifyScrypt(presented, entry.hash);
    else {
      const want = Buffer.from(entry.plain ?? '');
      ok = want.length === presented.length && timingSafeEqual(want, presented);
    }
    if (ok) this.cache.set(deviceId, digestOf(deviceId, presented));
    return ok ? 'ok' : 'bad_secret';
  }
}

function digestOf(deviceId: string, presented: Buffer): Buffer {
  return createHash('sha256').update(deviceId).update('\0').update(presented).digest();
}
