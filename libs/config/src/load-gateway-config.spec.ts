import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import { loadGatewayConfig } from './load-gateway-config';

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const BASE: Record<string, string> = {
  ERS_BASE_URL: 'https://ers.example/ers-api',
  ERS_ASID: '200000000220',
  SESSION_KEYS: KEY_A.toString('base64'),
};

function load(extra: Record<string, string | undefined> = {}, cwd?: string) {
  return loadGatewayConfig({ ...BASE, ...extra }, cwd === undefined ? {} : { cwd });
}

function problemsOf(env: Record<string, string | undefined>, cwd?: string): readonly string[] {
  try {
    loadGatewayConfig(env, cwd === undefined ? {} : { cwd });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

/** The one problem an env adds to the valid base. */
function problemWith(extra: Record<string, string | undefined>, cwd?: string): string {
  const problems = problemsOf({ ...BASE, ...extra }, cwd);
  expect(problems).toHaveLength(1);
  return problems[0] ?? '';
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=client');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-key.pem', '-out', 'other-cert.pem', '-days', '1', '-subj', '/CN=other');
  openssl('pkcs8', '-topk8', '-in', 'key.pem', '-out', 'encrypted-key.pem', '-passout', 'pass:secret');
  writeFileSync(join(dir, 'not-pem.txt'), 'hello');
  mkdirSync(join(dir, 'static'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadGatewayConfig: defaults', () => {
  it('applies every default of the contract', () => {
    const config = loadGatewayConfig({ ...BASE });
    expect(config.http).toMatchObject({
      host: '0.0.0.0',
      port: 3000,
      trustProxyHops: 0,
      maxBodyBytes: 10_485_760,
      headersTimeoutMs: 10_000,
      sessionBodyTimeoutMs: 30_000,
      uploadStallTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
      maxConnections: null,
      drainGraceMs: 5000,
      shutdownTimeoutMs: 220_000,
      opsPort: null,
      opsHost: '0.0.0.0',
      allowedOrigins: [],
      staticDir: null,
    });
    expect(config.ers).toMatchObject({
      baseUrl: 'https://ers.example/ers-api',
      asid: '200000000220',
      timeoutMs: 180_000,
      sessionTimeoutMs: 30_000,
      maxConnections: 128,
      loginConcurrency: 16,
      closeConcurrency: 8,
      tls: null,
    });
    expect(config.store.kind).toBe('redis');
    expect(config.store.redis).toMatchObject({
      url: 'redis://127.0.0.1:6379',
      sentinels: null,
      sentinelName: null,
      clusterNodes: null,
    });
    expect(config.store.redis.mode).toBe('standalone');
    expect(config.store.sessionKeys).toEqual([KEY_A]);
    expect(config.store.sessionKeysGenerated).toBe(false);
    expect(config.store.keyCacheSize).toBe(50_000);
    expect(config.session).toMatchObject({ idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 43_200, maxCallsPerSession: 32, maxSessionsPerUser: null });
    expect(config.admin.token).toBeNull();
    expect(config.loginThrottle).toMatchObject({ tokenFailures: 5, tokenWindowSeconds: 900, addressLimit: 300, addressWindowSeconds: 60 });
    expect(config.cookie).toMatchObject({ name: '__Host-ers-session', secure: true });
    expect(config.log.level).toBe('info');
    expect(config.nodeEnv).toBeNull();
  });

  it('is frozen all the way down (Buffers excepted)', () => {
    const config = load({ ALLOWED_ORIGINS: 'https://a.example', REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm' });
    for (const part of [
      config,
      config.http,
      config.http.allowedOrigins,
      config.ers,
      config.store,
      config.store.sessionKeys,
      config.store.redis,
      config.store.redis.clusterNodes,
      config.session,
      config.cookie,
      config.log,
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
  });

  it('treats an empty or blank variable as unset and trims values', () => {
    const config = load({ PORT: '', HOST: '   ', LOG_LEVEL: ' debug ' });
    expect(config.http.port).toBe(3000);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.log.level).toBe('debug');
  });

  it('ignores variables it does not know', () => {
    expect(() => load({ PATH: '/usr/bin', SOMETHING_ELSE: '???', SANDBOX_PORT: 'x' })).not.toThrow();
  });

  it('passes NODE_ENV through', () => {
    expect(load({ NODE_ENV: 'production' }).nodeEnv).toBe('production');
  });
});

describe('loadGatewayConfig: PORT and HOST', () => {
  it('accepts a port, including 0 for tests', () => {
    expect(load({ PORT: '8080' }).http.port).toBe(8080);
    expect(load({ PORT: '0' }).http.port).toBe(0);
    expect(load({ PORT: '65535' }).http.port).toBe(65535);
  });
  it.each([
    ['abc', 'PORT: expected an integer from 0 to 65535, got "abc"'],
    ['-1', 'PORT: expected an integer from 0 to 65535, got "-1"'],
    ['80.5', 'PORT: expected an integer from 0 to 65535, got "80.5"'],
    ['1e3', 'PORT: expected an integer from 0 to 65535, got "1e3"'],
    ['65536', 'PORT: expected an integer from 0 to 65535 (out of range), got "65536"'],
  ])('rejects PORT=%s', (value, line) => {
    expect(problemWith({ PORT: value })).toBe(line);
  });

  it('accepts host names and IP addresses', () => {
    expect(load({ HOST: '127.0.0.1' }).http.host).toBe('127.0.0.1');
    expect(load({ HOST: '::' }).http.host).toBe('::');
    expect(load({ HOST: 'localhost' }).http.host).toBe('localhost');
  });
  it.each([
    ['bad host', 'HOST: expected a host name or IP address to listen on, got "bad host"'],
    ['http://x', 'HOST: expected a host name or IP address to listen on, got "http://x"'],
  ])('rejects HOST=%s', (value, line) => {
    expect(problemWith({ HOST: value })).toBe(line);
  });
});

describe('loadGatewayConfig: ERS_BASE_URL and ERS_ASID', () => {
  it('is required', () => {
    expect(problemWith({ ERS_BASE_URL: undefined })).toBe(
      'ERS_BASE_URL: required (the e-RS base URL, e.g. https://host/ers-api)',
    );
    expect(problemWith({ ERS_ASID: undefined })).toBe(
      'ERS_ASID: required (the Accredited System ID sent as XAPI_ASID, digits only)',
    );
  });

  it('accepts http and https, and lower-cases the scheme and host', () => {
    expect(load({ ERS_BASE_URL: 'http://127.0.0.1:3001/ers-api' }).ers.baseUrl).toBe('http://127.0.0.1:3001/ers-api');
    expect(load({ ERS_BASE_URL: 'HTTPS://ERS.Example/ers-api' }).ers.baseUrl).toBe('https://ers.example/ers-api');
    expect(load({ ERS_BASE_URL: 'https://ers.example' }).ers.baseUrl).toBe('https://ers.example');
  });

  const expected = 'an http:// or https:// URL with no trailing slash, query, fragment or credentials';
  it.each([
    ['not a url', `ERS_BASE_URL: expected ${expected} (not a URL), got "not a url"`],
    ['ftp://ers.example/ers-api', `ERS_BASE_URL: expected ${expected} (not http or https), got "ftp://ers.example/ers-api"`],
    ['https://ers.example/ers-api/', `ERS_BASE_URL: expected ${expected} (ends with a slash), got "https://ers.example/ers-api/"`],
    ['https://ers.example/', `ERS_BASE_URL: expected ${expected} (ends with a slash), got "https://ers.example/"`],
    ['https://ers.example/ers-api?x=1', `ERS_BASE_URL: expected ${expected} (has a query or fragment), got "https://ers.example/ers-api?x=1"`],
    ['https://ers.example/ers-api#top', `ERS_BASE_URL: expected ${expected} (has a query or fragment), got "https://ers.example/ers-api#top"`],
    ['https://user:hunter2@ers.example/ers-api', `ERS_BASE_URL: expected ${expected} (has credentials), got "https://***@ers.example/ers-api"`],
  ])('rejects ERS_BASE_URL=%s', (value, line) => {
    expect(problemWith({ ERS_BASE_URL: value })).toBe(line);
  });

  it.each([
    ['abc', 'ERS_ASID: expected digits only (1 to 20), got "abc"'],
    ['2000-0000', 'ERS_ASID: expected digits only (1 to 20), got "2000-0000"'],
    ['123456789012345678901', 'ERS_ASID: expected digits only (1 to 20), got "123456789012345678901"'],
  ])('rejects ERS_ASID=%s', (value, line) => {
    expect(problemWith({ ERS_ASID: value })).toBe(line);
  });
});

describe('loadGatewayConfig: ERS_TLS_*', () => {
  it('reads the certificate, key and CA files, keeping paths and contents', () => {
    const tls = load({ ERS_TLS_CERT: 'cert.pem', ERS_TLS_KEY: 'key.pem', ERS_TLS_CA: 'other-cert.pem' }, dir).ers.tls;
    expect(tls).not.toBeNull();
    expect(tls?.certPath).toBe(join(dir, 'cert.pem'));
    expect(tls?.cert).toEqual(readFileSync(join(dir, 'cert.pem')));
    expect(tls?.keyPath).toBe(join(dir, 'key.pem'));
    expect(tls?.key).toEqual(readFileSync(join(dir, 'key.pem')));
    expect(tls?.caPath).toBe(join(dir, 'other-cert.pem'));
    expect(tls?.ca).toEqual(readFileSync(join(dir, 'other-cert.pem')));
  });

  it('accepts a CA alone (server verification against a private CA, no client certificate)', () => {
    const tls = load({ ERS_TLS_CA: join(dir, 'cert.pem') }).ers.tls;
    expect(tls).toMatchObject({ cert: null, key: null, certPath: null, keyPath: null });
    expect(tls?.ca).toBeInstanceOf(Buffer);
  });

  it('wants the certificate and the key together', () => {
    expect(problemWith({ ERS_TLS_CERT: 'cert.pem' }, dir)).toBe(
      'ERS_TLS_KEY: required when ERS_TLS_CERT is set (mutual TLS needs the certificate and its key)',
    );
    expect(problemWith({ ERS_TLS_KEY: 'key.pem' }, dir)).toBe(
      'ERS_TLS_CERT: required when ERS_TLS_KEY is set (mutual TLS needs the certificate and its key)',
    );
  });

  it('refuses TLS files with an http base URL', () => {
    expect(
      problemsOf({ ...BASE, ERS_BASE_URL: 'http://ers.example/ers-api', ERS_TLS_CERT: 'cert.pem', ERS_TLS_KEY: 'key.pem' }, dir),
    ).toEqual([
      'ERS_TLS_CERT: needs an https ERS_BASE_URL (TLS material is useless over plain HTTP)',
      'ERS_TLS_KEY: needs an https ERS_BASE_URL (TLS material is useless over plain HTTP)',
    ]);
  });

  it.each([
    ['ERS_TLS_CERT', 'missing.pem', 'ERS_TLS_CERT: expected a readable PEM certificate file, got "missing.pem" (not found)'],
    ['ERS_TLS_CERT', 'not-pem.txt', 'ERS_TLS_CERT: expected a readable PEM certificate file, got "not-pem.txt" (no -----BEGIN block: not PEM)'],
    ['ERS_TLS_CERT', 'key.pem', 'ERS_TLS_CERT: expected a readable PEM certificate file, got "key.pem" (no CERTIFICATE block)'],
    ['ERS_TLS_CERT', 'static', 'ERS_TLS_CERT: expected a readable PEM certificate file, got "static" (a directory, not a file)'],
    ['ERS_TLS_KEY', 'cert.pem', 'ERS_TLS_KEY: expected a readable PEM private key file, got "cert.pem" (no PRIVATE KEY block)'],
    ['ERS_TLS_KEY', 'encrypted-key.pem', 'ERS_TLS_KEY: expected a readable PEM private key file, got "encrypted-key.pem" (an encrypted key: give an unencrypted key and protect the file instead)'],
    ['ERS_TLS_KEY', 'other-key.pem', 'ERS_TLS_KEY: does not match the certificate in ERS_TLS_CERT (got "other-key.pem")'],
  ])('rejects %s=%s', (variable, value, line) => {
    expect(problemWith({ ERS_TLS_CERT: 'cert.pem', ERS_TLS_KEY: 'key.pem', [variable]: value }, dir)).toBe(line);
  });

  it('rejects a CA file that is not a PEM certificate', () => {
    expect(problemWith({ ERS_TLS_CA: 'not-pem.txt' }, dir)).toBe(
      'ERS_TLS_CA: expected a readable PEM CA certificate file, got "not-pem.txt" (no -----BEGIN block: not PEM)',
    );
  });

  it.runIf(process.getuid?.() !== 0)('rejects an unreadable file', () => {
    const unreadable = join(dir, 'unreadable.pem');
    writeFileSync(unreadable, readFileSync(join(dir, 'cert.pem')));
    chmodSync(unreadable, 0o000);
    expect(problemWith({ ERS_TLS_CA: unreadable })).toBe(
      `ERS_TLS_CA: expected a readable PEM CA certificate file, got ${JSON.stringify(unreadable)} (permission denied)`,
    );
  });

  it('never prints the private key, even in logs of the config', () => {
    const config = load({ ERS_TLS_CERT: 'cert.pem', ERS_TLS_KEY: 'key.pem' }, dir);
    const keyText = readFileSync(join(dir, 'key.pem'), 'utf8');
    const body = keyText.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    expect(JSON.stringify(config)).not.toContain(body);
    expect(inspect(config, { depth: 10 })).not.toContain(body);
  });
});

describe('loadGatewayConfig: timeouts and limits', () => {
  it.each([
    ['ERS_TIMEOUT_MS', '120000', (c: ReturnType<typeof load>) => c.ers.timeoutMs, 120_000],
    ['ERS_SESSION_TIMEOUT_MS', '5000', (c: ReturnType<typeof load>) => c.ers.sessionTimeoutMs, 5000],
    ['ERS_MAX_CONNECTIONS', '16', (c: ReturnType<typeof load>) => c.ers.maxConnections, 16],
    ['SESSION_IDLE_TIMEOUT_S', '600', (c: ReturnType<typeof load>) => c.session.idleTimeoutSeconds, 600],
    ['SESSION_ABSOLUTE_TIMEOUT_S', '3600', (c: ReturnType<typeof load>) => c.session.absoluteTimeoutSeconds, 3600],
    ['TRUST_PROXY', '2', (c: ReturnType<typeof load>) => c.http.trustProxyHops, 2],
    ['TRUST_PROXY', '0', (c: ReturnType<typeof load>) => c.http.trustProxyHops, 0],
    ['MAX_BODY_BYTES', '1024', (c: ReturnType<typeof load>) => c.http.maxBodyBytes, 1024],
    ['HEADERS_TIMEOUT_MS', '5000', (c: ReturnType<typeof load>) => c.http.headersTimeoutMs, 5000],
    ['SESSION_BODY_TIMEOUT_MS', '2000', (c: ReturnType<typeof load>) => c.http.sessionBodyTimeoutMs, 2000],
    ['UPLOAD_STALL_TIMEOUT_MS', '2000', (c: ReturnType<typeof load>) => c.http.uploadStallTimeoutMs, 2000],
    ['KEEP_ALIVE_TIMEOUT_MS', '61000', (c: ReturnType<typeof load>) => c.http.keepAliveTimeoutMs, 61_000],
    ['MAX_CONNECTIONS', '500', (c: ReturnType<typeof load>) => c.http.maxConnections, 500],
    ['DRAIN_GRACE_MS', '0', (c: ReturnType<typeof load>) => c.http.drainGraceMs, 0],
    ['DRAIN_GRACE_MS', '15000', (c: ReturnType<typeof load>) => c.http.drainGraceMs, 15_000],
    ['SHUTDOWN_TIMEOUT_MS', '60000', (c: ReturnType<typeof load>) => c.http.shutdownTimeoutMs, 60_000],
    ['OPS_PORT', '9464', (c: ReturnType<typeof load>) => c.http.opsPort, 9464],
    ['OPS_PORT', '0', (c: ReturnType<typeof load>) => c.http.opsPort, 0],
    ['OPS_HOST', '10.0.0.5', (c: ReturnType<typeof load>) => c.http.opsHost, '10.0.0.5'],
    ['MAX_CALLS_PER_SESSION', '4', (c: ReturnType<typeof load>) => c.session.maxCallsPerSession, 4],
    ['MAX_SESSIONS_PER_USER', '1', (c: ReturnType<typeof load>) => c.session.maxSessionsPerUser, 1],
    ['MAX_SESSIONS_PER_USER', '5', (c: ReturnType<typeof load>) => c.session.maxSessionsPerUser, 5],
    ['LOGIN_TOKEN_FAILURES', '10', (c: ReturnType<typeof load>) => c.loginThrottle.tokenFailures, 10],
    ['LOGIN_TOKEN_WINDOW_S', '60', (c: ReturnType<typeof load>) => c.loginThrottle.tokenWindowSeconds, 60],
    ['LOGIN_ADDRESS_LIMIT', '1000', (c: ReturnType<typeof load>) => c.loginThrottle.addressLimit, 1000],
    ['LOGIN_ADDRESS_WINDOW_S', '10', (c: ReturnType<typeof load>) => c.loginThrottle.addressWindowSeconds, 10],
    ['ERS_LOGIN_CONCURRENCY', '4', (c: ReturnType<typeof load>) => c.ers.loginConcurrency, 4],
    ['ERS_CLOSE_CONCURRENCY', '2', (c: ReturnType<typeof load>) => c.ers.closeConcurrency, 2],
    ['SESSION_KEY_CACHE_SIZE', '0', (c: ReturnType<typeof load>) => c.store.keyCacheSize, 0],
    ['SESSION_KEY_CACHE_SIZE', '200000', (c: ReturnType<typeof load>) => c.store.keyCacheSize, 200_000],
  ])('accepts %s=%s', (variable, value, read, expected) => {
    expect(read(load({ [variable]: value }))).toBe(expected);
  });

  it.each([
    ['ERS_TIMEOUT_MS', '0', 'ERS_TIMEOUT_MS: expected an integer from 1 to 2147483647 (out of range), got "0"'],
    ['ERS_TIMEOUT_MS', '2min', 'ERS_TIMEOUT_MS: expected an integer from 1 to 2147483647, got "2min"'],
    ['ERS_TIMEOUT_MS', '9999999999', 'ERS_TIMEOUT_MS: expected an integer from 1 to 2147483647 (out of range), got "9999999999"'],
    ['ERS_SESSION_TIMEOUT_MS', '-5', 'ERS_SESSION_TIMEOUT_MS: expected an integer from 1 to 2147483647, got "-5"'],
    ['ERS_MAX_CONNECTIONS', '0', 'ERS_MAX_CONNECTIONS: expected an integer from 1 to 65535 (out of range), got "0"'],
    ['ERS_MAX_CONNECTIONS', 'many', 'ERS_MAX_CONNECTIONS: expected an integer from 1 to 65535, got "many"'],
    ['SESSION_IDLE_TIMEOUT_S', '0', 'SESSION_IDLE_TIMEOUT_S: expected an integer from 1 to 2147483 (out of range), got "0"'],
    ['SESSION_IDLE_TIMEOUT_S', '30m', 'SESSION_IDLE_TIMEOUT_S: expected an integer from 1 to 2147483, got "30m"'],
    ['SESSION_ABSOLUTE_TIMEOUT_S', '1.5', 'SESSION_ABSOLUTE_TIMEOUT_S: expected an integer from 1 to 2147483, got "1.5"'],
    ['TRUST_PROXY', '-1', 'TRUST_PROXY: expected an integer from 0 to 1000, got "-1"'],
    ['TRUST_PROXY', 'true', 'TRUST_PROXY: expected an integer from 0 to 1000, got "true"'],
    ['MAX_BODY_BYTES', '0', 'MAX_BODY_BYTES: expected an integer >= 1 (out of range), got "0"'],
    ['MAX_BODY_BYTES', '10MB', 'MAX_BODY_BYTES: expected an integer >= 1, got "10MB"'],
    ['MAX_CALLS_PER_SESSION', '0', 'MAX_CALLS_PER_SESSION: expected an integer from 1 to 10000 (out of range), got "0"'],
    ['MAX_SESSIONS_PER_USER', '0', 'MAX_SESSIONS_PER_USER: expected an integer from 1 to 10000 (out of range), got "0"'],
    ['MAX_SESSIONS_PER_USER', 'unlimited', 'MAX_SESSIONS_PER_USER: expected an integer from 1 to 10000, got "unlimited"'],
    ['HEADERS_TIMEOUT_MS', '10s', 'HEADERS_TIMEOUT_MS: expected an integer from 1 to 2147483647, got "10s"'],
    ['DRAIN_GRACE_MS', '-1', 'DRAIN_GRACE_MS: expected an integer from 0 to 2147483647, got "-1"'],
    ['DRAIN_GRACE_MS', '5s', 'DRAIN_GRACE_MS: expected an integer from 0 to 2147483647, got "5s"'],
    ['SHUTDOWN_TIMEOUT_MS', '0', 'SHUTDOWN_TIMEOUT_MS: expected an integer from 1 to 2147483647 (out of range), got "0"'],
    ['OPS_PORT', '70000', 'OPS_PORT: expected an integer from 0 to 65535 (out of range), got "70000"'],
    ['LOGIN_TOKEN_FAILURES', '0', 'LOGIN_TOKEN_FAILURES: expected an integer from 1 to 1000000 (out of range), got "0"'],
    ['SESSION_KEY_CACHE_SIZE', '-1', 'SESSION_KEY_CACHE_SIZE: expected an integer from 0 to 10000000, got "-1"'],
    ['SESSION_KEY_CACHE_SIZE', '50k', 'SESSION_KEY_CACHE_SIZE: expected an integer from 0 to 10000000, got "50k"'],
    ['SESSION_KEY_CACHE_SIZE', '10000001', 'SESSION_KEY_CACHE_SIZE: expected an integer from 0 to 10000000 (out of range), got "10000001"'],
  ])('rejects %s=%s', (variable, value, line) => {
    expect(problemWith({ [variable]: value })).toBe(line);
  });
});

describe('loadGatewayConfig: DRAIN_GRACE_MS and SHUTDOWN_TIMEOUT_MS', () => {
  it('bounds the shutdown by default by the grace period, a proxied call and an A003, with a margin', () => {
    const config = load({ DRAIN_GRACE_MS: '1000', ERS_TIMEOUT_MS: '20000', ERS_SESSION_TIMEOUT_MS: '3000' });
    expect(config.http.shutdownTimeoutMs).toBe(1000 + 20_000 + 3000 + 5000);
    expect(load({ ERS_TIMEOUT_MS: '2147483647' }).http.shutdownTimeoutMs).toBe(2_147_483_647);
  });

  it('refuses a SHUTDOWN_TIMEOUT_MS no longer than the grace period (it counts from SIGTERM)', () => {
    expect(problemWith({ DRAIN_GRACE_MS: '5000', SHUTDOWN_TIMEOUT_MS: '5000' })).toBe(
      'SHUTDOWN_TIMEOUT_MS: must be longer than DRAIN_GRACE_MS (5000): it counts from SIGTERM, the grace period included',
    );
    expect(problemWith({ SHUTDOWN_TIMEOUT_MS: '4000' })).toBe(
      'SHUTDOWN_TIMEOUT_MS: must be longer than DRAIN_GRACE_MS (5000): it counts from SIGTERM, the grace period included',
    );
    expect(load({ DRAIN_GRACE_MS: '0', SHUTDOWN_TIMEOUT_MS: '1' }).http).toMatchObject({ drainGraceMs: 0, shutdownTimeoutMs: 1 });
  });
});

describe('loadGatewayConfig: SESSION_STORE and Redis', () => {
  it('accepts memory outside production, and makes a throw-away key when SESSION_KEYS is unset', () => {
    const config = loadGatewayConfig({ ...BASE, SESSION_STORE: 'memory', SESSION_KEYS: undefined, NODE_ENV: 'development' });
    expect(config.store.kind).toBe('memory');
    expect(config.store.sessionKeys).toHaveLength(1);
    expect(config.store.sessionKeys[0]).toHaveLength(32);
    expect(config.store.sessionKeysGenerated).toBe(true);
  });

  it('uses the given keys with memory too', () => {
    expect(load({ SESSION_STORE: 'memory' }).store.sessionKeys).toEqual([KEY_A]);
  });

  it('refuses memory in production', () => {
    expect(problemWith({ SESSION_STORE: 'memory', NODE_ENV: 'production' })).toBe(
      'SESSION_STORE: memory is for one process only and is refused when NODE_ENV=production',
    );
  });

  it('rejects an unknown store', () => {
    expect(problemWith({ SESSION_STORE: 'mysql' })).toBe('SESSION_STORE: expected one of redis, memory, got "mysql"');
  });

  it('accepts redis:// and rediss:// URLs', () => {
    expect(load({ REDIS_URL: 'rediss://:pw@redis.internal:6380/2' }).store.redis.url).toBe('rediss://:pw@redis.internal:6380/2');
  });

  it.each([
    ['http://redis:6379', 'REDIS_URL: expected a redis:// or rediss:// URL (not redis or rediss), got "http://redis:6379"'],
    ['localhost:6379', 'REDIS_URL: expected a redis:// or rediss:// URL (not redis or rediss), got "localhost:6379"'],
    ['redis', 'REDIS_URL: expected a redis:// or rediss:// URL (not a URL), got "redis"'],
  ])('rejects REDIS_URL=%s', (value, line) => {
    expect(problemWith({ REDIS_URL: value })).toBe(line);
  });

  it('never prints a password of a REDIS_URL', () => {
    for (const url of ['http://:S3cretPass@redis:6379', 'redis//admin:S3cretPass@redis', 'https://r?password=S3cretPass']) {
      const line = problemWith({ REDIS_URL: url });
      expect(line).toMatch(/^REDIS_URL: /);
      expect(line).not.toContain('S3cretPass');
    }
    const config = load({ REDIS_URL: 'redis://admin:S3cretPass@redis:6379' });
    expect(JSON.stringify(config)).not.toContain('S3cretPass');
    expect(inspect(config, { depth: 10 })).not.toContain('S3cretPass');
  });

  it('refuses a Redis that cannot keep sessions unless REDIS_ALLOW_VOLATILE=true', () => {
    expect(load().store.redis.allowVolatile).toBe(false);
    expect(load({ REDIS_ALLOW_VOLATILE: 'true' }).store.redis.allowVolatile).toBe(true);
    expect(load({ REDIS_ALLOW_VOLATILE: 'FALSE' }).store.redis.allowVolatile).toBe(false);
    expect(problemWith({ REDIS_ALLOW_VOLATILE: 'yes' })).toBe('REDIS_ALLOW_VOLATILE: expected true or false, got "yes"');
  });

  it('reads Sentinels with their master name', () => {
    const redis = load({ REDIS_SENTINELS: 's1:26379, [::1]:26380,10.0.0.3:26381', REDIS_SENTINEL_NAME: 'mymaster' }).store.redis;
    expect(redis.sentinels).toEqual([
      { host: 's1', port: 26379 },
      { host: '::1', port: 26380 },
      { host: '10.0.0.3', port: 26381 },
    ]);
    expect(redis.sentinelName).toBe('mymaster');
    expect(redis.mode).toBe('sentinel');
  });

  it('refuses Redis Cluster at start-up rather than half-serving it', () => {
    expect(problemWith({ REDIS_CLUSTER_NODES: 'redis_node_1:7000,redis-node-2:7001' })).toBe(
      'REDIS_CLUSTER_NODES: Redis Cluster is not supported yet (the session scripts use keys in several hash slots); use one primary, or Sentinel (REDIS_SENTINELS)',
    );
  });

  it('waits for one replica by default with Sentinel, for none standalone, as many as REDIS_MIN_REPLICAS_ACK says', () => {
    const sentinel = { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'mymaster' };
    expect(load(sentinel).store.redis.minReplicasAck).toBe(1);
    expect(load({}).store.redis.minReplicasAck).toBe(0);
    expect(load({ ...sentinel, REDIS_MIN_REPLICAS_ACK: '0' }).store.redis.minReplicasAck).toBe(0);
    expect(load({ REDIS_MIN_REPLICAS_ACK: '2' }).store.redis.minReplicasAck).toBe(2);
    expect(problemWith({ REDIS_MIN_REPLICAS_ACK: 'one' })).toBe('REDIS_MIN_REPLICAS_ACK: expected an integer from 0 to 16, got "one"');
    expect(problemWith({ REDIS_MIN_REPLICAS_ACK: '17' })).toBe('REDIS_MIN_REPLICAS_ACK: expected an integer from 0 to 16 (out of range), got "17"');
  });

  it.each([
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set (the Sentinel master name)'],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, 'REDIS_SENTINELS: required when REDIS_SENTINEL_NAME is set (host:port,... of the Sentinels)'],
    [{ REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: expected a comma-separated list of host:port (entry 1 is not host:port), got "s1"'],
    [{ REDIS_SENTINELS: 's1:26379,s2:0', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: expected a comma-separated list of host:port (entry 2 is not host:port), got "s1:26379,s2:0"'],
    [{ REDIS_SENTINELS: 's1:26379,,s2:1', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: expected a comma-separated list of host:port (entry 2 is empty), got "s1:26379,,s2:1"'],
    [{ REDIS_SENTINELS: 's1:1', REDIS_SENTINEL_NAME: 'my master' }, 'REDIS_SENTINEL_NAME: expected a Redis Sentinel master name (no spaces or commas), got "my master"'],
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, 'REDIS_CLUSTER_NODES: expected a comma-separated list of host:port (entry 2 is not host:port), got "a:1,b"'],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS: choose Sentinel or Cluster'],
  ])('rejects %o', (extra, line) => {
    expect(problemWith(extra)).toBe(line);
  });
});

describe('loadGatewayConfig: SESSION_KEYS', () => {
  const expected = 'SESSION_KEYS: expected comma-separated base64 keys of exactly 32 bytes each (make one with: openssl rand -base64 32)';

  it('is required with redis', () => {
    expect(problemWith({ SESSION_KEYS: undefined })).toBe(
      'SESSION_KEYS: required when SESSION_STORE=redis (comma-separated base64 keys of exactly 32 bytes; make one with: openssl rand -base64 32)',
    );
  });

  it('accepts standard and base64url keys, padded or not, the first one first', () => {
    const keys = load({
      SESSION_KEYS: `${KEY_A.toString('base64url')}, ${KEY_B.toString('base64').replace(/=+$/, '')}`,
    }).store.sessionKeys;
    expect(keys).toEqual([KEY_A, KEY_B]);
  });

  const short = randomBytes(16).toString('base64');
  const long = randomBytes(33).toString('base64');
  const notBase64 = `${KEY_A.toString('base64').slice(0, 40)}!!!=`;
  it.each([
    ['a key of 16 bytes', short, `${expected} (entry 1 of 1 is not base64 of 32 bytes) (value not shown: it is a secret)`],
    ['a key of 33 bytes', `${KEY_A.toString('base64')},${long}`, `${expected} (entry 2 of 2 is not base64 of 32 bytes) (value not shown: it is a secret)`],
    ['not base64', notBase64, `${expected} (entry 1 of 1 is not base64 of 32 bytes) (value not shown: it is a secret)`],
    ['an empty entry', `${KEY_A.toString('base64')},`, `${expected} (entry 2 is empty) (value not shown: it is a secret)`],
    ['a duplicate', `${KEY_A.toString('base64')},${KEY_B.toString('base64')},${KEY_A.toString('base64url')}`, `${expected} (entries 1 and 3 are the same key) (value not shown: it is a secret)`],
  ])('rejects %s without printing it', (_name, value, line) => {
    const problem = problemWith({ SESSION_KEYS: value });
    expect(problem).toBe(line);
    for (const part of value.split(',')) {
      if (part.length > 8) expect(problem).not.toContain(part.slice(0, 8));
    }
  });

  it('rejects a key whose last character carries stray bits (not canonical base64)', () => {
    const text = KEY_A.toString('base64'); // 43 characters + '='; the last one carries 2 spare bits
    const last = text[42] ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const tweaked = `${text.slice(0, 42)}${alphabet[alphabet.indexOf(last) ^ 1]}=`;
    expect(problemWith({ SESSION_KEYS: tweaked })).toMatch(/^SESSION_KEYS: .*entry 1 of 1/);
  });

  it('keeps the keys out of JSON and inspect output', () => {
    const config = load();
    expect(JSON.stringify(config)).not.toContain(KEY_A.toString('base64').slice(0, 20));
    expect(inspect(config, { depth: 10 })).not.toContain(KEY_A.toString('hex').slice(0, 20));
  });
});

describe('loadGatewayConfig: ADMIN_TOKEN', () => {
  const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';
  const EXPECTED = 'ADMIN_TOKEN: expected 32 to 512 visible ASCII characters (make one with: openssl rand -base64 32)';

  it('takes a token with OPS_PORT and keeps it out of JSON and inspect output', () => {
    const config = load({ ADMIN_TOKEN: TOKEN, OPS_PORT: '9464' });
    expect(config.admin.token).toBe(TOKEN);
    expect(JSON.stringify(config)).not.toContain(TOKEN.slice(0, 12));
    expect(inspect(config, { depth: 10 })).not.toContain(TOKEN.slice(0, 12));
  });

  it.each([
    ['too short', 'x'.repeat(31), `${EXPECTED} (31 characters is too short to guess-proof an admin API) (value not shown: it is a secret)`],
    ['with a space', `${TOKEN} x`, `${EXPECTED} (value not shown: it is a secret)`],
    ['too long', 'x'.repeat(513), `${EXPECTED} (value not shown: it is a secret)`],
  ])('refuses a token %s without showing it', (_what, token, line) => {
    expect(problemWith({ ADMIN_TOKEN: token, OPS_PORT: '9464' })).toBe(line);
  });

  it('refuses a token without OPS_PORT: the admin API is never served on the public port', () => {
    const problem = problemWith({ ADMIN_TOKEN: TOKEN });
    expect(problem).toMatch(/^ADMIN_TOKEN: needs OPS_PORT/);
    expect(problem).not.toContain(TOKEN.slice(0, 12));
  });
});

describe('loadGatewayConfig: cookie', () => {
  it('accepts a cookie name and COOKIE_SECURE in any case', () => {
    expect(load({ COOKIE_NAME: '__Host-gw' }).cookie.name).toBe('__Host-gw');
    expect(load({ COOKIE_NAME: '__Secure-gw' }).cookie.name).toBe('__Secure-gw');
    expect(load({ COOKIE_SECURE: 'TRUE' }).cookie.secure).toBe(true);
    expect(load({ COOKIE_SECURE: 'False', COOKIE_NAME: 'dev-session' }).cookie).toMatchObject({
      name: 'dev-session',
      secure: false,
    });
  });

  it('uses ers-session instead of the __Host- default when COOKIE_SECURE=false', () => {
    expect(load({ COOKIE_SECURE: 'false' }).cookie).toMatchObject({ name: 'ers-session', secure: false });
  });

  it.each([
    [{ COOKIE_NAME: 'bad name' }, 'COOKIE_NAME: expected a cookie name (letters, digits and !#$%&\'*+-.^_`|~ only), got "bad name"'],
    [{ COOKIE_NAME: 'a;b' }, 'COOKIE_NAME: expected a cookie name (letters, digits and !#$%&\'*+-.^_`|~ only), got "a;b"'],
    [{ COOKIE_NAME: 'a=b' }, 'COOKIE_NAME: expected a cookie name (letters, digits and !#$%&\'*+-.^_`|~ only), got "a=b"'],
    [{ COOKIE_SECURE: 'yes' }, 'COOKIE_SECURE: expected true or false, got "yes"'],
    [{ COOKIE_SECURE: '1' }, 'COOKIE_SECURE: expected true or false, got "1"'],
    [{ COOKIE_SECURE: 'false', COOKIE_NAME: '__Host-ers-session' }, 'COOKIE_NAME: "__Host-ers-session" needs COOKIE_SECURE=true (browsers refuse __Host- and __Secure- cookies without Secure); choose another name or leave COOKIE_NAME unset'],
    [{ COOKIE_SECURE: 'false', COOKIE_NAME: '__secure-x' }, 'COOKIE_NAME: "__secure-x" needs COOKIE_SECURE=true (browsers refuse __Host- and __Secure- cookies without Secure); choose another name or leave COOKIE_NAME unset'],
    // Found in review: a Secure cookie without the prefix lets a sibling subdomain plant its own ahead of the user's.
    [{ COOKIE_NAME: 'ers-session' }, 'COOKIE_NAME: "ers-session" must start with __Host- (or __Secure-) when the cookie is Secure: without the prefix, a sibling subdomain can plant a cookie of the same name ahead of the user\'s'],
    [{ COOKIE_SECURE: 'true', COOKIE_NAME: '__host-x' }, 'COOKIE_NAME: "__host-x" must start with __Host- (or __Secure-) when the cookie is Secure: without the prefix, a sibling subdomain can plant a cookie of the same name ahead of the user\'s'],
    // Found in review: COOKIE_SECURE=false was accepted in production.
    [{ COOKIE_SECURE: 'false', NODE_ENV: 'production' }, 'COOKIE_SECURE: false is refused when NODE_ENV=production (the session cookie must be Secure: serve the gateway over HTTPS)'],
    [{ OPS_PORT: '3000' }, 'OPS_PORT: must differ from PORT (3000): the operations listener is a second listener'],
  ])('rejects %o', (extra, line) => {
    expect(problemWith(extra)).toBe(line);
  });
});

describe('loadGatewayConfig: ALLOWED_ORIGINS', () => {
  it('normalises origins (lower case, default port dropped) and removes duplicates', () => {
    expect(
      load({ ALLOWED_ORIGINS: 'HTTPS://App.Example:443, http://localhost:5173,https://app.example' }).http.allowedOrigins,
    ).toEqual(['https://app.example', 'http://localhost:5173']);
  });

  const expected = 'ALLOWED_ORIGINS: expected a comma-separated list of origins (scheme://host[:port], no path or trailing slash)';
  it.each([
    ['https://app.example/', `${expected} (entry 1 is not an origin), got "https://app.example/"`],
    ['https://a.example,https://app.example/spa', `${expected} (entry 2 is not an origin), got "https://a.example,https://app.example/spa"`],
    ['*', `${expected} (entry 1 is not an origin), got "*"`],
    ['app.example', `${expected} (entry 1 is not an origin), got "app.example"`],
    ['ftp://app.example', `${expected} (entry 1 is not an origin), got "ftp://app.example"`],
    ['https://app.example?x', `${expected} (entry 1 is not an origin), got "https://app.example?x"`],
    ['https://a.example,,https://b.example', `${expected} (entry 2 is empty), got "https://a.example,,https://b.example"`],
  ])('rejects ALLOWED_ORIGINS=%s', (value, line) => {
    expect(problemWith({ ALLOWED_ORIGINS: value })).toBe(line);
  });
});

describe('loadGatewayConfig: LOG_LEVEL and STATIC_DIR', () => {
  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts LOG_LEVEL=%s', (level) => {
    expect(load({ LOG_LEVEL: level }).log.level).toBe(level);
  });
  it('rejects an unknown level', () => {
    expect(problemWith({ LOG_LEVEL: 'verbose' })).toBe(
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    );
  });

  it('resolves STATIC_DIR to an absolute path', () => {
    expect(load({ STATIC_DIR: 'static' }, dir).http.staticDir).toBe(join(dir, 'static'));
    expect(load({ STATIC_DIR: join(dir, 'static') }).http.staticDir).toBe(join(dir, 'static'));
  });
  it.each([
    ['nowhere', 'STATIC_DIR: expected an existing directory, got "nowhere" (not found)'],
    ['cert.pem', 'STATIC_DIR: expected an existing directory, got "cert.pem" (not a directory)'],
  ])('rejects STATIC_DIR=%s', (value, line) => {
    expect(problemWith({ STATIC_DIR: value }, dir)).toBe(line);
  });
});

describe('loadGatewayConfig: several problems', () => {
  it('reports one line per bad variable, in a stable order, and joins them in the message', () => {
    const env = {
      ERS_ASID: 'x',
      PORT: 'http',
      SESSION_KEYS: 'c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1wcmludGVk',
      COOKIE_SECURE: 'maybe',
      REDIS_URL: 'redis://:hunter2@[bad',
    };
    let caught: unknown;
    try {
      loadGatewayConfig(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems.map((line) => line.split(':')[0])).toEqual([
      'PORT',
      'ERS_BASE_URL',
      'ERS_ASID',
      'REDIS_URL',
      'SESSION_KEYS',
      'COOKIE_SECURE',
    ]);
    expect(error.message).toBe(error.problems.join('\n'));
    const everything = `${error.message}\n${JSON.stringify(error)}\n${inspect(error)}`;
    expect(everything).not.toContain('c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1wcmludGVk');
    expect(everything).not.toContain('hunter2');
  });
});
