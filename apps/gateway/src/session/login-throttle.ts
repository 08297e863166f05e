import { hash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { GatewayConfig, LoginThrottleConfig } from '@libs/config';
import { InjectSessionStore, type LoginLimits, SessionStore } from '@libs/session-store';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayError } from '../problem/gateway-error';
import { describe } from '../upstream-close/upstream-close.service';

/** A smartcard token as the throttle knows it: its SHA-256, never the token. */
export interface ThrottledLogin {
  tokenHash: string;
}

/**
 * Login throttling, before every A001 the gateway sends (a sign-in, and the A001 of a role
 * switch), shared by all instances through the session store:
 *
 * - failed A001s per smartcard token (by its hash): `LOGIN_TOKEN_FAILURES` per
 *   `LOGIN_TOKEN_WINDOW_S`. Each A001 reserves one failure and gives it back unless e-RS refused
 *   the token, so concurrent attempts with a bad token cannot get past the limit either;
 * - logins per client address: `LOGIN_ADDRESS_LIMIT` per `LOGIN_ADDRESS_WINDOW_S` (generous: a
 *   trust's clinicians share one address behind its NAT).
 *
 * Over either: `429 too-many-logins` with `Retry-After`, and no A001. The store down: `503`
 * (`StoreUnavailableError`), never an unthrottled login.
 */
@Injectable()
export class LoginThrottle {
  private readonly limits: LoginLimits;

  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    @InjectLogger() private readonly logger: GatewayLogger,
    config: GatewayConfig,
  ) {
    const throttle: LoginThrottleConfig = config.loginThrottle;
    this.limits = {
      tokenFailures: throttle.tokenFailures,
      tokenWindowMs: throttle.tokenWindowSeconds * 1000,
      addressLimit: throttle.addressLimit,
      addressWindowMs: throttle.addressWindowSeconds * 1000,
    };
  }

  /** Counts an A001 about to be sent, or refuses it (`too-many-logins`). */
  async admit(clientAddress: string, ssoToken: string): Promise<ThrottledLogin> {
    const tokenHash = hash('sha256', ssoToken, 'base64url');
    const admission = await this.store.admitLogin(clientAddress, tokenHash, this.limits);
    if (admission.status === 'admitted') return { tokenHash };
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    this.logger.warn({ event: 'login-throttled', by: admission.by, retryAfterSeconds }, 'sign-in refused: too many');
    throw new GatewayError(
      'too-many-logins',
      admission.by === 'token'
        ? 'This smartcard token was refused too many times; try again later.'
        : 'Too many sign-ins from this address; try again later.',
      { retryAfterSeconds },
    );
  }

  /** After the A001: keeps the reserved failure only when e-RS refused the token. */
  async settle(login: ThrottledLogin, refused: boolean): Promise<void> {
    await this.store.settleLogin(login.tokenHash, refused).catch((error: unknown) =>
      // A failure stays counted against the token until its window ends: the safe side.
      this.logger.warn({ event: 'login-settle-failed', err: describe(error) }, 'could not settle a login attempt'),
    );
  }
}
