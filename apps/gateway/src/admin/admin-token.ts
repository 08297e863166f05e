import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The admin API's bearer check (`ADMIN_TOKEN`). Both sides are hashed first so the comparison is
 * always over 32 equal-length bytes: `timingSafeEqual` then takes the same time whatever the
 * presented token, and neither its length nor a matching prefix can be learnt by timing.
 */
export class AdminToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  /** True when `authorization` is `Bearer <the token>` (scheme in any case, as RFC 9110 allows). */
  admits(authorization: string | undefined): boolean {
    const presented = /^bearer +([\x21-\x7e]+) *$/i.exec(authorization ?? '')?.[1] ?? '';
    // Compared even when absent, so a missing header costs the same as a wrong one.
    return timingSafeEqual(sha256(presented), this.digest) && presented !== '';
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
