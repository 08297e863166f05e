import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type CookieConfig, GatewayConfig } from '@libs/config';

/** 32 bytes from the CSPRNG, base64url: 256 bits, nothing else in the value. */
const SESSION_ID_BYTES = 32;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The browser's only handle on a session: `COOKIE_NAME=<opaque>; HttpOnly; Secure;
 * SameSite=Strict; Path=/`, no Domain and no Max-Age/Expires (a browser-session cookie).
 */
@Injectable()
export class SessionCookie {
  private readonly name: string;
  private readonly attributes: string;
  /** The Set-Cookie value that removes the cookie. */
  readonly clearing: string;

  constructor(config: GatewayConfig) {
    this.name = config.cookie.name;
    this.attributes = cookieAttributes(config.cookie);
    this.clearing = clearingCookie(config.cookie);
  }

  newSessionId(): string {
    return randomBytes(SESSION_ID_BYTES).toString('base64url');
  }

  /**
   * The session id the request carries, or null. A value of the wrong shape is no session: it is
   * not looked up (it cannot be one the gateway issued).
   */
  read(request: FastifyRequest): string | null {
    return this.idFrom(request.headers.cookie);
  }

  /** `read`, from the Cookie header itself. */
  idFrom(header: string | undefined): string | null {
    if (header === undefined) return null;
    const value = cookieValue(header, this.name);
    return value !== null && SESSION_ID_PATTERN.test(value) ? value : null;
  }

  issue(reply: FastifyReply, sessionId: string): void {
    reply.header('set-cookie', `${this.name}=${sessionId}${this.attributes}`);
  }

  clear(reply: FastifyReply): void {
    reply.header('set-cookie', this.clearing);
  }
}

function cookieAttributes(cookie: CookieConfig): string {
  return `; Path=/; HttpOnly${cookie.secure ? '; Secure' : ''}; SameSite=Strict`;
}

/** The Set-Cookie value that removes the session cookie. */
export function clearingCookie(cookie: CookieConfig): string {
  return `${cookie.name}=${cookieAttributes(cookie)}; Max-Age=0`;
}

/** The first value of cookie `name` in a Cookie header, without allocating the whole map. */
export function cookieValue(header: string, name: string): string | null {
  let start = 0;
  while (start < header.length) {
    while (header.charCodeAt(start) === 32) start++;
    const end = header.indexOf(';', start);
    const stop = end === -1 ? header.length : end;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < stop && eq - start === name.length && header.startsWith(name, start)) {
      return header.slice(eq + 1, stop).trim();
    }
    start = stop + 1;
  }
  return null;
}
