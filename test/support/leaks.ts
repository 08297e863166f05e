import { expect } from 'vitest';

/**
 * Secrets the gateway must never show: smartcard tokens, e-RS session keys, cookie values.
 * Collects them as a test learns them, then checks any text for every one.
 */
export class SecretWatch {
  private readonly secrets = new Map<string, string>();

  add(kind: string, value: string | null | undefined): void {
    if (value) this.secrets.set(value, kind);
  }

  get size(): number {
    return this.secrets.size;
  }

  /** Fails naming the place and the kind of secret found (never printing the secret itself). */
  expectAbsent(place: string, text: string): void {
    for (const [secret, kind] of this.secrets) {
      const found = text.includes(secret);
      expect(found, `${kind} found in ${place}`).toBe(false);
    }
  }
}
