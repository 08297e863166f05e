import { isIP } from 'node:net';

/**
 * The textual formats of the gateway's environment variables. Each format parses a raw string
 * into a typed value or says what it expected; the same parser serves the class-validator
 * decorator (validation) and the config builder (conversion), so the two cannot disagree.
 */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason?: string };

export interface EnvFormat<T> {
  /** What a valid value looks like, for the error line ("expected …"). */
  readonly expected: string;
  /** Secret formats never show the offending value in an error line. */
  readonly secret?: boolean;
  parse(raw: string): ParseResult<T>;
}

export interface HostPort {
  host: string;
  port: number;
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const fail = <T>(reason?: string): ParseResult<T> =>
  reason === undefined ? { ok: false } : { ok: false, reason };

/** Largest delay Node timers accept; a bigger value fires at once (with a warning). */
export const MAX_TIMER_MS = 2_147_483_647;

export function integer(min: number, max: number): EnvFormat<number> {
  const expected =
    max === Number.MAX_SAFE_INTEGER
      ? `an integer >= ${min}`
      : `an integer from ${min} to ${max}`;
  return {
    expected,
    parse(raw) {
      if (!/^\d+$/.test(raw)) return fail();
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < min || value > max) return fail('out of range');
      return ok(value);
    },
  };
}

export function oneOf<const V extends string>(values: readonly V[]): EnvFormat<V> {
  return {
    expected: `one of ${values.join(', ')}`,
    parse(raw) {
      const lower = raw.toLowerCase();
      const found = values.find((v) => v === lower);
      return found === undefined ? fail() : ok(found);
    },
  };
}

export const boolean: EnvFormat<boolean> = {
  expected: 'true or false',
  parse(raw) {
    const lower = raw.toLowerCase();
    if (lower === 'true') return ok(true);
    if (lower === 'false') return ok(false);
    return fail();
  },
};

export const digits: EnvFormat<string> = {
  expected: 'digits only (1 to 20)',
  parse: (raw) => (/^\d{1,20}$/.test(raw) ? ok(raw) : fail()),
};

/** A file or directory path; existence is checked when the config is built. */
export const path: EnvFormat<string> = {
  expected: 'a file system path',
  parse: (raw) => (/[\0]/.test(raw) ? fail('contains a NUL character') : ok(raw)),
};

// A DNS label allowing `_`, which container service names use (`redis_sentinel_1`).
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

export const host: EnvFormat<string> = {
  expected: 'a host name or IP address to listen on',
  parse: (raw) => (isIP(raw) !== 0 || HOSTNAME.test(raw) ? ok(raw) : fail()),
};

/** Characters RFC 6265 allows in a cookie name (an RFC 7230 token). */
const COOKIE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const cookieName: EnvFormat<string> = {
  expected: 'a cookie name (letters, digits and !#$%&\'*+-.^_`|~ only)',
  parse: (raw) => (COOKIE_TOKEN.test(raw) ? ok(raw) : fail()),
};

export const sentinelName: EnvFormat<string> = {
  expected: 'a Redis Sentinel master name (no spaces or commas)',
  // Control characters would corrupt the RESP command that carries the name.
  parse: (raw) => (/^[^\s,\p{Cc}]+$/u.test(raw) ? ok(raw) : fail()),
};

function parseUrl(raw: string): URL | null {
  if (/[\s\p{Cc}]/u.test(raw)) return null;
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/** `ERS_BASE_URL`: http(s), no trailing slash, no query, fragment or credentials. */
export const httpBaseUrl: EnvFormat<string> = {
  expected: 'an http:// or https:// URL with no trailing slash, query, fragment or credentials',
  parse(raw) {
    const url = parseUrl(raw);
    if (url === null || url.hostname === '') return fail('not a URL');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('not http or https');
    if (url.username !== '' || url.password !== '') return fail('has credentials');
    if (raw.includes('?') || raw.includes('#')) return fail('has a query or fragment');
    if (raw.endsWith('/')) return fail('ends with a slash');
    const pathname = url.pathname === '/' ? '' : url.pathname;
    return ok(`${url.protocol}//${url.host}${pathname}`);
  },
};

export const redisUrl: EnvFormat<string> = {
  expected: 'a redis:// or rediss:// URL',
  parse(raw) {
    const url = parseUrl(raw);
    if (url === null) return fail('not a URL');
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return fail('not redis or rediss');
    if (url.hostname === '') return fail('no host');
    return ok(raw);
  },
};

/** Items of a comma-separated list, trimmed; an empty item is a mistake (`a,,b`), not skipped. */
function listItems(raw: string): { items: string[]; empty: number | null } {
  const items = raw.split(',').map((item) => item.trim());
  const emptyIndex = items.findIndex((item) => item === '');
  return { items, empty: emptyIndex === -1 ? null : emptyIndex + 1 };
}

export const hostPortList: EnvFormat<HostPort[]> = {
  expected: 'a comma-separated list of host:port',
  parse(raw) {
    const { items, empty } = listItems(raw);
    if (empty !== null) return fail(`entry ${empty} is empty`);
    const nodes: HostPort[] = [];
    for (const [index, item] of items.entries()) {
      const match = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(item) ?? /^([^:[\]]+):(\d{1,5})$/.exec(item);
      const hostPart = match?.[1];
      const port = Number(match?.[2]);
      const hostOk =
        hostPart !== undefined &&
        (item.startsWith('[') ? isIP(hostPart) === 6 : HOSTNAME.test(hostPart));
      if (!hostOk || !Number.isInteger(port) || port < 1 || port > 65535) {
        return fail(`entry ${index + 1} is not host:port`);
      }
      nodes.push({ host: hostPart, port });
    }
    return ok(nodes);
  },
};

/** `ALLOWED_ORIGINS`: exact origins as a browser sends them in `Origin`, normalised. */
export const originList: EnvFormat<string[]> = {
  expected: 'a comma-separated list of origins (scheme://host[:port], no path or trailing slash)',
  parse(raw) {
    const { items, empty } = listItems(raw);
    if (empty !== null) return fail(`entry ${empty} is empty`);
    const origins = new Set<string>();
    for (const [index, item] of items.entries()) {
      const url = parseUrl(item);
      const valid =
        url !== null &&
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.hostname !== '' &&
        url.username === '' &&
        url.password === '' &&
        url.pathname === '/' &&
        !item.endsWith('/') &&
        !item.includes('?') &&
        !item.includes('#');
      if (!valid) return fail(`entry ${index + 1} is not an origin`);
      // `URL.origin` lower-cases scheme and host and drops a default port, like a browser's Origin.
      origins.add(url.origin);
    }
    return ok([...origins]);
  },
};

export const ADMIN_TOKEN_MIN_CHARS = 32;

/**
 * `ADMIN_TOKEN`: the admin API's bearer token, 32 to 512 visible ASCII characters (what an
 * `Authorization: Bearer` header can carry unchanged), e.g. `openssl rand -base64 32`.
 */
export const adminToken: EnvFormat<string> = {
  expected: `${ADMIN_TOKEN_MIN_CHARS} to 512 visible ASCII characters (make one with: openssl rand -base64 32)`,
  secret: true,
  parse(raw) {
    if (raw.length < ADMIN_TOKEN_MIN_CHARS) return fail(`${raw.length} characters is too short to guess-proof an admin API`);
    if (raw.length > 512 || !/^[\x21-\x7e]+$/.test(raw)) return fail();
    return ok(raw);
  },
};

export const SESSION_KEY_BYTES = 32;

/**
 * `SESSION_KEYS`: base64 (standard or base64url, padding optional) of exactly 32 bytes each.
 * The text is decoded strictly (re-encoding must give it back) so a typo is not silently accepted.
 */
export const sessionKeys: EnvFormat<Buffer[]> = {
  expected: `comma-separated base64 keys of exactly ${SESSION_KEY_BYTES} bytes each (make one with: openssl rand -base64 32)`,
  secret: true,
  parse(raw) {
    const { items, empty } = listItems(raw);
    if (empty !== null) return fail(`entry ${empty} is empty`);
    const keys: Buffer[] = [];
    for (const [index, item] of items.entries()) {
      const key = decodeKey(item);
      if (key === null) {
        return fail(`entry ${index + 1} of ${items.length} is not base64 of ${SESSION_KEY_BYTES} bytes`);
      }
      const same = keys.findIndex((other) => other.equals(key));
      if (same !== -1) return fail(`entries ${same + 1} and ${index + 1} are the same key`);
      keys.push(key);
    }
    return ok(keys);
  },
};

function decodeKey(text: string): Buffer | null {
  const unpadded = text.replace(/=+$/, '');
  const standard = /^[A-Za-z0-9+/]+$/.test(unpadded);
  const urlSafe = /^[A-Za-z0-9_-]+$/.test(unpadded);
  if (!standard && !urlSafe) return null;
  if (text.length - unpadded.length > 2) return null;
  const key = Buffer.from(unpadded, urlSafe ? 'base64url' : 'base64');
  if (key.length !== SESSION_KEY_BYTES) return null;
  // Canonical check: stray low bits in the last character would otherwise be ignored.
  const again = key.toString(urlSafe ? 'base64url' : 'base64').replace(/=+$/, '');
  return again === unpadded ? key : null;
}

/**
 * How a non-secret value is shown in an error line: quoted, shortened, and with any
 * `user:password@` part hidden (a URL or a host list may carry a password).
 */
export function showValue(raw: string): string {
  let shown = raw;
  const at = shown.lastIndexOf('@');
  if (at !== -1) {
    // Everything between the scheme and the last `@` may be credentials, whatever it contains.
    const schemeEnd = shown.indexOf('://');
    const start = schemeEnd !== -1 && schemeEnd < at ? schemeEnd + 3 : 0;
    shown = `${shown.slice(0, start)}***${shown.slice(at)}`;
  }
  // ioredis also reads a password from the query string.
  shown = shown.replace(/([?&]password=)[^&#]*/gi, '$1***');
  if (shown.length > 120) shown = `${shown.slice(0, 117)}...`;
  return JSON.stringify(shown);
}
