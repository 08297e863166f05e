import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './config-error';
import { MAX_TIMER_MS, SESSION_KEY_BYTES, showValue, type EnvFormat } from './env-formats';
import {
  AdminConfig,
  CookieConfig,
  ErsConfig,
  ErsTlsConfig,
  GatewayConfig,
  HttpConfig,
  LogConfig,
  LoginThrottleConfig,
  RedisConfig,
  SessionConfig,
  StoreConfig,
} from './gateway-config';
import {
  ENV_FORMATS,
  GATEWAY_VARIABLES,
  GatewayEnvironment,
  type EnvValue,
  type FormattedVariable,
  type GatewayVariable,
} from './gateway-environment';

export const DEFAULT_COOKIE_NAME = '__Host-ers-session';
/**
 * Browsers refuse `__Host-`/`__Secure-` cookies without `Secure`, so with `COOKIE_SECURE=false`
 * and no `COOKIE_NAME` the gateway uses this name instead of the default.
 */
export const INSECURE_DEFAULT_COOKIE_NAME = 'ers-session';

export interface LoadGatewayConfigOptions {
  /** Base of relative `ERS_TLS_*` and `STATIC_DIR` paths; the process's directory by default. */
  cwd?: string;
}

/**
 * Validates the environment and builds the frozen `GatewayConfig`. Throws `ConfigError` listing
 * every bad variable (one line each) so an operator can fix them all in one go.
 * Variables it does not know are ignored; an empty variable counts as unset.
 */
export function loadGatewayConfig(
  env: Record<string, string | undefined>,
  options: LoadGatewayConfigOptions = {},
): GatewayConfig {
  const cwd = options.cwd ?? process.cwd();
  const environment = plainToInstance(GatewayEnvironment, pickVariables(env));
  const problems = new Map<GatewayVariable, string>();
  const errors = validateSync(environment, {
    stopAtFirstError: true,
    validationError: { target: false, value: false },
  });
  for (const error of errors) {
    const line = Object.values(error.constraints ?? {})[0];
    if (line !== undefined && !problems.has(error.property as GatewayVariable)) {
      problems.set(error.property as GatewayVariable, line);
    }
  }

  const raw = (name: GatewayVariable): string | undefined => environment[name];
  const bad = (name: GatewayVariable): boolean => problems.has(name);
  const problem = (name: GatewayVariable, line: string): void => {
    if (!problems.has(name)) problems.set(name, `${name}: ${line}`);
  };
  /** The parsed value, or undefined when unset or malformed (a malformed one is already reported). */
  function value<N extends FormattedVariable>(name: N): EnvValue<N> | undefined {
    const text = raw(name);
    if (text === undefined || bad(name)) return undefined;
    const result = (ENV_FORMATS[name] as EnvFormat<EnvValue<N>>).parse(text);
    return result.ok ? result.value : undefined;
  }

  const nodeEnv = raw('NODE_ENV') ?? null;

  // --- HTTP listener ---------------------------------------------------------------------------
  let staticDir: string | null = null;
  const staticDirRaw = value('STATIC_DIR');
  if (staticDirRaw !== undefined) {
    staticDir = resolve(cwd, staticDirRaw);
    const reason = directoryProblem(staticDir);
    if (reason !== null) {
      problem('STATIC_DIR', `expected an existing directory, got ${showValue(staticDirRaw)} (${reason})`);
    }
  }

  // --- e-RS ------------------------------------------------------------------------------------
  const baseUrl = value('ERS_BASE_URL');
  const tls = loadTls(baseUrl, raw, bad, problem, cwd);

  // --- Session store ---------------------------------------------------------------------------
  const storeKind = value('SESSION_STORE') ?? 'redis';
  if (storeKind === 'memory' && nodeEnv === 'production') {
    problems.set(
      'SESSION_STORE',
      'SESSION_STORE: memory is for one process only and is refused when NODE_ENV=production',
    );
  }
  const sentinels = value('REDIS_SENTINELS') ?? null;
  const sentinelNameValue = value('REDIS_SENTINEL_NAME') ?? null;
  const clusterNodes = value('REDIS_CLUSTER_NODES') ?? null;
  if (raw('REDIS_SENTINELS') !== undefined && raw('REDIS_SENTINEL_NAME') === undefined) {
    problem('REDIS_SENTINEL_NAME', 'required when REDIS_SENTINELS is set (the Sentinel master name)');
  }
  if (raw('REDIS_SENTINEL_NAME') !== undefined && raw('REDIS_SENTINELS') === undefined) {
    problem('REDIS_SENTINELS', 'required when REDIS_SENTINEL_NAME is set (host:port,... of the Sentinels)');
  }
  if (raw('REDIS_CLUSTER_NODES') !== undefined && raw('REDIS_SENTINELS') !== undefined) {
    problem('REDIS_CLUSTER_NODES', 'cannot be combined with REDIS_SENTINELS: choose Sentinel or Cluster');
  } else if (clusterNodes !== null) {
    // Refused, not half-served: the session scripts touch keys in several hash slots, so a cluster
    // answers some logins and no role choice, and leaves e-RS sessions it cannot close.
    problem(
      'REDIS_CLUSTER_NODES',
      'Redis Cluster is not supported yet (the session scripts use keys in several hash slots); use one primary, or Sentinel (REDIS_SENTINELS)',
    );
  }

  let keys = value('SESSION_KEYS');
  let keysGenerated = false;
  if (raw('SESSION_KEYS') === undefined) {
    if (storeKind === 'redis') {
      problem(
        'SESSION_KEYS',
        `required when SESSION_STORE=redis (comma-separated base64 keys of exactly ${SESSION_KEY_BYTES} bytes; make one with: openssl rand -base64 32)`,
      );
    } else {
      // One process, nothing at rest outlives it: a throw-away key is enough.
      keys = [randomBytes(SESSION_KEY_BYTES)];
      keysGenerated = true;
    }
  }

  // --- Cookie ----------------------------------------------------------------------------------
  const cookieSecure = value('COOKIE_SECURE') ?? true;
  const explicitCookieName = value('COOKIE_NAME');
  if (!bad('COOKIE_SECURE') && !cookieSecure && nodeEnv === 'production') {
    problem('COOKIE_SECURE', 'false is refused when NODE_ENV=production (the session cookie must be Secure: serve the gateway over HTTPS)');
  }
  if (!bad('COOKIE_SECURE') && !cookieSecure && explicitCookieName !== undefined) {
    if (/^__(host|secure)-/i.test(explicitCookieName)) {
      problem(
        'COOKIE_NAME',
        `${showValue(explicitCookieName)} needs COOKIE_SECURE=true (browsers refuse __Host- and __Secure- cookies without Secure); choose another name or leave COOKIE_NAME unset`,
      );
    }
  }
  if (!bad('COOKIE_SECURE') && cookieSecure && explicitCookieName !== undefined && !/^__(Host|Secure)-/.test(explicitCookieName)) {
    problem(
      'COOKIE_NAME',
      `${showValue(explicitCookieName)} must start with __Host- (or __Secure-) when the cookie is Secure: without the prefix, a sibling subdomain can plant a cookie of the same name ahead of the user's`,
    );
  }

  // --- Slow requests ---------------------------------------------------------------------------
  const headersTimeoutMs = value('HEADERS_TIMEOUT_MS') ?? 10_000;
  const port = value('PORT') ?? 3000;
  const opsPort = value('OPS_PORT') ?? null;
  if (opsPort !== null && opsPort !== 0 && opsPort === port && (value('OPS_HOST') ?? value('HOST')) === value('HOST')) {
    problem('OPS_PORT', `must differ from PORT (${port}): the operations listener is a second listener`);
  }

  // --- SIGTERM ---------------------------------------------------------------------------------
  const drainGraceMs = value('DRAIN_GRACE_MS') ?? 5000;
  // By default: the grace period, then a proxied call (ERS_TIMEOUT_MS) and after it a held A003
  // (ERS_SESSION_TIMEOUT_MS), with a margin.
  const shutdownTimeoutMs =
    value('SHUTDOWN_TIMEOUT_MS') ??
    Math.min(MAX_TIMER_MS, drainGraceMs + (value('ERS_TIMEOUT_MS') ?? 180_000) + (value('ERS_SESSION_TIMEOUT_MS') ?? 30_000) + 5000);
  if (raw('SHUTDOWN_TIMEOUT_MS') !== undefined && !bad('SHUTDOWN_TIMEOUT_MS') && !bad('DRAIN_GRACE_MS') && shutdownTimeoutMs <= drainGraceMs) {
    problem('SHUTDOWN_TIMEOUT_MS', `must be longer than DRAIN_GRACE_MS (${drainGraceMs}): it counts from SIGTERM, the grace period included`);
  }
  if (raw('ADMIN_TOKEN') !== undefined && raw('OPS_PORT') === undefined) {
    problem('ADMIN_TOKEN', 'needs OPS_PORT: the admin API is served only on the operators\' listener, never on the public port');
  }

  if (problems.size > 0) {
    throw new ConfigError(GATEWAY_VARIABLES.flatMap((name) => problems.get(name) ?? []));
  }

  // Every value below was validated above: the fallbacks are the defaults of CONTRACT.md §1.
  return new GatewayConfig({
    nodeEnv,
    http: new HttpConfig({
      host: value('HOST') ?? '0.0.0.0',
      opsHost: value('OPS_HOST') ?? value('HOST') ?? '0.0.0.0',
      port,
      trustProxyHops: value('TRUST_PROXY') ?? 0,
      maxBodyBytes: value('MAX_BODY_BYTES') ?? 10_485_760,
      headersTimeoutMs,
      sessionBodyTimeoutMs: value('SESSION_BODY_TIMEOUT_MS') ?? 30_000,
      uploadStallTimeoutMs: value('UPLOAD_STALL_TIMEOUT_MS') ?? 30_000,
      keepAliveTimeoutMs: value('KEEP_ALIVE_TIMEOUT_MS') ?? 72_000,
      maxConnections: value('MAX_CONNECTIONS') ?? null,
      drainGraceMs,
      shutdownTimeoutMs,
      opsPort,
      allowedOrigins: value('ALLOWED_ORIGINS') ?? [],
      staticDir,
      staticConnectSrc: value('STATIC_CONNECT_SRC') ?? [],
    }),
    ers: new ErsConfig({
      baseUrl: required(baseUrl),
      asid: required(value('ERS_ASID')),
      timeoutMs: value('ERS_TIMEOUT_MS') ?? 180_000,
      sessionTimeoutMs: value('ERS_SESSION_TIMEOUT_MS') ?? 30_000,
      maxConnections: value('ERS_MAX_CONNECTIONS') ?? 128,
      loginConcurrency: value('ERS_LOGIN_CONCURRENCY') ?? 16,
      closeConcurrency: value('ERS_CLOSE_CONCURRENCY') ?? 8,
      tls,
    }),
    store: new StoreConfig({
      kind: storeKind,
      redis: new RedisConfig({
        url: value('REDIS_URL') ?? 'redis://127.0.0.1:6379',
        sentinels,
        sentinelName: sentinelNameValue,
        clusterNodes,
        allowVolatile: value('REDIS_ALLOW_VOLATILE') ?? false,
        // With Sentinel a failover must not undo an answered write: one replica holds it first.
        minReplicasAck: value('REDIS_MIN_REPLICAS_ACK') ?? (sentinels === null ? 0 : 1),
      }),
      sessionKeys: required(keys),
      sessionKeysGenerated: keysGenerated,
      keyCacheSize: value('SESSION_KEY_CACHE_SIZE') ?? 50_000,
    }),
    session: new SessionConfig({
      idleTimeoutSeconds: value('SESSION_IDLE_TIMEOUT_S') ?? 1800,
      absoluteTimeoutSeconds: value('SESSION_ABSOLUTE_TIMEOUT_S') ?? 43_200,
      maxCallsPerSession: value('MAX_CALLS_PER_SESSION') ?? 32,
      maxSessionsPerUser: value('MAX_SESSIONS_PER_USER') ?? null,
    }),
    cookie: new CookieConfig({
      name: explicitCookieName ?? (cookieSecure ? DEFAULT_COOKIE_NAME : INSECURE_DEFAULT_COOKIE_NAME),
      secure: cookieSecure,
    }),
    loginThrottle: new LoginThrottleConfig({
      tokenFailures: value('LOGIN_TOKEN_FAILURES') ?? 5,
      tokenWindowSeconds: value('LOGIN_TOKEN_WINDOW_S') ?? 900,
      addressLimit: value('LOGIN_ADDRESS_LIMIT') ?? 300,
      addressWindowSeconds: value('LOGIN_ADDRESS_WINDOW_S') ?? 60,
    }),
    admin: new AdminConfig({ token: value('ADMIN_TOKEN') ?? null }),
    log: new LogConfig({ level: value('LOG_LEVEL') ?? 'info' }),
  });
}

/** Only the variables the gateway knows, trimmed; empty ones dropped (unset). */
function pickVariables(env: Record<string, string | undefined>): Partial<Record<GatewayVariable, string>> {
  const picked: Partial<Record<GatewayVariable, string>> = {};
  for (const name of GATEWAY_VARIABLES) {
    const text = env[name]?.trim();
    if (text !== undefined && text !== '') picked[name] = text;
  }
  return picked;
}

function required<T>(value: T | undefined): T {
  // Unreachable: a missing required value was reported, and reports throw before the build.
  if (value === undefined) throw new Error('configuration built with a missing required value');
  return value;
}

function directoryProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : 'not a directory';
  } catch (error) {
    return fileErrorReason(error);
  }
}

function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'a directory, not a file';
    default:
      return `cannot be read: ${code ?? 'unknown error'}`;
  }
}

type PemKind = 'certificate' | 'private key';

type PemFile =
  | { status: 'read'; path: string; contents: Buffer; parsed: X509Certificate | KeyObject }
  | { status: 'unset' | 'bad' };

function readPem(
  name: GatewayVariable,
  rawPath: string | undefined,
  kind: PemKind,
  cwd: string,
  problem: (name: GatewayVariable, line: string) => void,
): PemFile {
  if (rawPath === undefined) return { status: 'unset' };
  const expected = `expected a readable PEM ${kind === 'certificate' && name === 'ERS_TLS_CA' ? 'CA certificate' : kind} file`;
  const report = (reason: string): PemFile => {
    problem(name, `${expected}, got ${showValue(rawPath)} (${reason})`);
    return { status: 'bad' };
  };
  const filePath = resolve(cwd, rawPath);
  let contents: Buffer;
  try {
    contents = readFileSync(filePath);
  } catch (error) {
    return report(fileErrorReason(error));
  }
  // Only the shape is described in a problem: the contents (a private key) are never shown.
  const text = contents.toString('latin1');
  if (!text.includes('-----BEGIN ')) return report('no -----BEGIN block: not PEM');
  try {
    if (kind === 'certificate') {
      if (!text.includes('-----BEGIN CERTIFICATE-----')) return report('no CERTIFICATE block');
      return { status: 'read', path: filePath, contents, parsed: new X509Certificate(contents) };
    }
    if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
      return report('an encrypted key: give an unencrypted key and protect the file instead');
    }
    if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text)) return report('no PRIVATE KEY block');
    return { status: 'read', path: filePath, contents, parsed: createPrivateKey(contents) };
  } catch {
    return report(`the ${kind} cannot be parsed`);
  }
}

/** `ERS_TLS_*`: files read now, so a wrong path stops the boot instead of the first login. */
function loadTls(
  baseUrl: string | undefined,
  raw: (name: GatewayVariable) => string | undefined,
  bad: (name: GatewayVariable) => boolean,
  problem: (name: GatewayVariable, line: string) => void,
  cwd: string,
): ErsTlsConfig | null {
  const names = ['ERS_TLS_CERT', 'ERS_TLS_KEY', 'ERS_TLS_CA'] as const;
  const given = names.filter((name) => raw(name) !== undefined);
  if (given.length === 0) return null;

  if (baseUrl?.startsWith('http:')) {
    for (const name of given) {
      problem(name, `needs an https ERS_BASE_URL (TLS material is useless over plain HTTP)`);
    }
    return null;
  }
  if (raw('ERS_TLS_CERT') !== undefined && raw('ERS_TLS_KEY') === undefined) {
    problem('ERS_TLS_KEY', 'required when ERS_TLS_CERT is set (mutual TLS needs the certificate and its key)');
  }
  if (raw('ERS_TLS_KEY') !== undefined && raw('ERS_TLS_CERT') === undefined) {
    problem('ERS_TLS_CERT', 'required when ERS_TLS_KEY is set (mutual TLS needs the certificate and its key)');
  }

  const pathOf = (name: (typeof names)[number]): string | undefined => (bad(name) ? undefined : raw(name));
  const cert = readPem('ERS_TLS_CERT', pathOf('ERS_TLS_CERT'), 'certificate', cwd, problem);
  const key = readPem('ERS_TLS_KEY', pathOf('ERS_TLS_KEY'), 'private key', cwd, problem);
  const ca = readPem('ERS_TLS_CA', pathOf('ERS_TLS_CA'), 'certificate', cwd, problem);

  if (
    cert.status === 'read' &&
    key.status === 'read' &&
    cert.parsed instanceof X509Certificate &&
    !(key.parsed instanceof X509Certificate) &&
    !cert.parsed.checkPrivateKey(key.parsed)
  ) {
    problem('ERS_TLS_KEY', `does not match the certificate in ERS_TLS_CERT (got ${showValue(raw('ERS_TLS_KEY') ?? '')})`);
  }

  const fileOf = (file: PemFile): { path: string | null; contents: Buffer | null } =>
    file.status === 'read' ? { path: file.path, contents: file.contents } : { path: null, contents: null };
  return new ErsTlsConfig({
    certPath: fileOf(cert).path,
    cert: fileOf(cert).contents,
    keyPath: fileOf(key).path,
    key: fileOf(key).contents,
    caPath: fileOf(ca).path,
    ca: fileOf(ca).contents,
  });
}
