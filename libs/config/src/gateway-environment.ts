import { IsDefined, IsOptional, ValidateBy, type ValidationArguments } from 'class-validator';
import {
  adminToken,
  boolean,
  cookieName,
  digits,
  host,
  hostPortList,
  httpBaseUrl,
  integer,
  MAX_TIMER_MS,
  oneOf,
  originList,
  path,
  redisUrl,
  sentinelName,
  sessionKeys,
  showValue,
  type EnvFormat,
} from './env-formats';
import { LOG_LEVELS } from './gateway-config';

/** The error line for a value that does not match its format. */
export function formatProblem(variable: string, format: EnvFormat<unknown>, raw: string): string {
  const result = format.parse(raw);
  const reason = !result.ok && result.reason !== undefined ? ` (${result.reason})` : '';
  const got = format.secret === true ? ' (value not shown: it is a secret)' : `, got ${showValue(raw)}`;
  return `${variable}: expected ${format.expected}${reason}${got}`;
}

/** Validates a string variable against its format; absent variables are left to `@IsDefined`. */
function Env(format: EnvFormat<unknown>): PropertyDecorator {
  return ValidateBy({
    name: 'envFormat',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || format.parse(value).ok,
      defaultMessage: (args?: ValidationArguments) =>
        args === undefined ? format.expected : formatProblem(args.property, format, String(args.value)),
    },
  });
}

function Required(what: string): PropertyDecorator {
  return IsDefined({ message: (args: ValidationArguments) => `${args.property}: required (${what})` });
}

const MAX_PORT = 65535;
// Seconds are capped so that the millisecond value still fits a Node timer.
const MAX_TIMER_S = Math.floor(MAX_TIMER_MS / 1000);

/** The format of every variable that has one; the same parsers validate and convert. */
export const ENV_FORMATS = {
  PORT: integer(0, MAX_PORT),
  HOST: host,
  ERS_BASE_URL: httpBaseUrl,
  ERS_ASID: digits,
  ERS_TLS_CERT: path,
  ERS_TLS_KEY: path,
  ERS_TLS_CA: path,
  ERS_TIMEOUT_MS: integer(1, MAX_TIMER_MS),
  ERS_SESSION_TIMEOUT_MS: integer(1, MAX_TIMER_MS),
  // Not in CONTRACT.md §1 yet: the upper bound of the upstream (proxy) connection pool.
  ERS_MAX_CONNECTIONS: integer(1, MAX_PORT),
  // A001/A002 and A003 each have their own connection pool and concurrency limit (README).
  ERS_LOGIN_CONCURRENCY: integer(1, 1000),
  ERS_CLOSE_CONCURRENCY: integer(1, 1000),
  SESSION_STORE: oneOf(['redis', 'memory'] as const),
  REDIS_URL: redisUrl,
  REDIS_SENTINELS: hostPortList,
  REDIS_SENTINEL_NAME: sentinelName,
  REDIS_CLUSTER_NODES: hostPortList,
  // Not in CONTRACT.md §1: accept a Redis that cannot keep sessions (README, Operations).
  REDIS_ALLOW_VOLATILE: boolean,
  // Replicas that must hold a login, logout or queued close before it is answered (WAIT; README).
  REDIS_MIN_REPLICAS_ACK: integer(0, 16),
  SESSION_KEYS: sessionKeys,
  SESSION_IDLE_TIMEOUT_S: integer(1, MAX_TIMER_S),
  SESSION_ABSOLUTE_TIMEOUT_S: integer(1, MAX_TIMER_S),
  // Not in CONTRACT.md §1: how many decrypted e-RS keys an instance keeps to skip decrypting
  // them again on every call (0: decrypt on every call). README, Configuration.
  SESSION_KEY_CACHE_SIZE: integer(0, 10_000_000),
  MAX_CALLS_PER_SESSION: integer(1, 10_000),
  // Per-user sessions and the admin API (README, Configuration; docs/design.md, Per-user sessions).
  MAX_SESSIONS_PER_USER: integer(1, 10_000),
  ADMIN_TOKEN: adminToken,
  // Login throttling (README, Configuration): failed A001s per token, logins per client address.
  LOGIN_TOKEN_FAILURES: integer(1, 1_000_000),
  LOGIN_TOKEN_WINDOW_S: integer(1, MAX_TIMER_S),
  LOGIN_ADDRESS_LIMIT: integer(1, 1_000_000),
  LOGIN_ADDRESS_WINDOW_S: integer(1, MAX_TIMER_S),
  COOKIE_NAME: cookieName,
  COOKIE_SECURE: boolean,
  ALLOWED_ORIGINS: originList,
  TRUST_PROXY: integer(0, 1000),
  MAX_BODY_BYTES: integer(1, Number.MAX_SAFE_INTEGER),
  // Slow requests and connections (README, Configuration).
  HEADERS_TIMEOUT_MS: integer(1, MAX_TIMER_MS),
  SESSION_BODY_TIMEOUT_MS: integer(1, MAX_TIMER_MS),
  UPLOAD_STALL_TIMEOUT_MS: integer(1, MAX_TIMER_MS),
  KEEP_ALIVE_TIMEOUT_MS: integer(1, MAX_TIMER_MS),
  MAX_CONNECTIONS: integer(1, 10_000_000),
  // SIGTERM (README, Operations): readiness 503 this long before the listener closes; the most
  // time from the signal to the exit.
  DRAIN_GRACE_MS: integer(0, MAX_TIMER_MS),
  SHUTDOWN_TIMEOUT_MS: integer(1, MAX_TIMER_MS),
  OPS_PORT: integer(0, MAX_PORT),
  OPS_HOST: host,
  LOG_LEVEL: oneOf(LOG_LEVELS),
  STATIC_DIR: path,
  // Origins the served pages may also connect to (their CSP connect-src), e.g. the demo's sandbox.
  STATIC_CONNECT_SRC: originList,
} as const;

export type FormattedVariable = keyof typeof ENV_FORMATS;
/** The typed value a variable parses to. */
export type EnvValue<N extends FormattedVariable> =
  (typeof ENV_FORMATS)[N] extends EnvFormat<infer T> ? T : never;

/**
 * The gateway's environment as class-validator sees it: every value a trimmed, non-empty string
 * or absent (an empty variable counts as unset, as `VAR=` in a compose file usually means).
 * Defaults and rules that involve several variables (files, TLS pairs, Sentinel, production)
 * are applied by `loadGatewayConfig()`.
 */
export class GatewayEnvironment {
  @IsOptional() @Env(ENV_FORMATS.PORT) PORT?: string;
  @IsOptional() @Env(ENV_FORMATS.HOST) HOST?: string;

  @Required('the e-RS base URL, e.g. https://host/ers-api')
  @Env(ENV_FORMATS.ERS_BASE_URL)
  ERS_BASE_URL?: string;
  @Required('the Accredited System ID sent as XAPI_ASID, digits only')
  @Env(ENV_FORMATS.ERS_ASID)
  ERS_ASID?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_TLS_CERT) ERS_TLS_CERT?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_TLS_KEY) ERS_TLS_KEY?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_TLS_CA) ERS_TLS_CA?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_TIMEOUT_MS) ERS_TIMEOUT_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_SESSION_TIMEOUT_MS) ERS_SESSION_TIMEOUT_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_MAX_CONNECTIONS) ERS_MAX_CONNECTIONS?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_LOGIN_CONCURRENCY) ERS_LOGIN_CONCURRENCY?: string;
  @IsOptional() @Env(ENV_FORMATS.ERS_CLOSE_CONCURRENCY) ERS_CLOSE_CONCURRENCY?: string;

  @IsOptional() @Env(ENV_FORMATS.SESSION_STORE) SESSION_STORE?: string;
  @IsOptional() @Env(ENV_FORMATS.REDIS_URL) REDIS_URL?: string;
  @IsOptional() @Env(ENV_FORMATS.REDIS_SENTINELS) REDIS_SENTINELS?: string;
  @IsOptional() @Env(ENV_FORMATS.REDIS_SENTINEL_NAME) REDIS_SENTINEL_NAME?: string;
  @IsOptional() @Env(ENV_FORMATS.REDIS_CLUSTER_NODES) REDIS_CLUSTER_NODES?: string;
  @IsOptional() @Env(ENV_FORMATS.REDIS_ALLOW_VOLATILE) REDIS_ALLOW_VOLATILE?: string;
  @IsOptional() @Env(ENV_FORMATS.REDIS_MIN_REPLICAS_ACK) REDIS_MIN_REPLICAS_ACK?: string;
  @IsOptional() @Env(ENV_FORMATS.SESSION_KEYS) SESSION_KEYS?: string;
  @IsOptional() @Env(ENV_FORMATS.SESSION_IDLE_TIMEOUT_S) SESSION_IDLE_TIMEOUT_S?: string;
  @IsOptional() @Env(ENV_FORMATS.SESSION_ABSOLUTE_TIMEOUT_S) SESSION_ABSOLUTE_TIMEOUT_S?: string;
  @IsOptional() @Env(ENV_FORMATS.SESSION_KEY_CACHE_SIZE) SESSION_KEY_CACHE_SIZE?: string;
  @IsOptional() @Env(ENV_FORMATS.MAX_CALLS_PER_SESSION) MAX_CALLS_PER_SESSION?: string;
  @IsOptional() @Env(ENV_FORMATS.MAX_SESSIONS_PER_USER) MAX_SESSIONS_PER_USER?: string;
  @IsOptional() @Env(ENV_FORMATS.ADMIN_TOKEN) ADMIN_TOKEN?: string;
  @IsOptional() @Env(ENV_FORMATS.LOGIN_TOKEN_FAILURES) LOGIN_TOKEN_FAILURES?: string;
  @IsOptional() @Env(ENV_FORMATS.LOGIN_TOKEN_WINDOW_S) LOGIN_TOKEN_WINDOW_S?: string;
  @IsOptional() @Env(ENV_FORMATS.LOGIN_ADDRESS_LIMIT) LOGIN_ADDRESS_LIMIT?: string;
  @IsOptional() @Env(ENV_FORMATS.LOGIN_ADDRESS_WINDOW_S) LOGIN_ADDRESS_WINDOW_S?: string;

  @IsOptional() @Env(ENV_FORMATS.COOKIE_NAME) COOKIE_NAME?: string;
  @IsOptional() @Env(ENV_FORMATS.COOKIE_SECURE) COOKIE_SECURE?: string;
  @IsOptional() @Env(ENV_FORMATS.ALLOWED_ORIGINS) ALLOWED_ORIGINS?: string;
  @IsOptional() @Env(ENV_FORMATS.TRUST_PROXY) TRUST_PROXY?: string;
  @IsOptional() @Env(ENV_FORMATS.MAX_BODY_BYTES) MAX_BODY_BYTES?: string;
  @IsOptional() @Env(ENV_FORMATS.HEADERS_TIMEOUT_MS) HEADERS_TIMEOUT_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.SESSION_BODY_TIMEOUT_MS) SESSION_BODY_TIMEOUT_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.UPLOAD_STALL_TIMEOUT_MS) UPLOAD_STALL_TIMEOUT_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.KEEP_ALIVE_TIMEOUT_MS) KEEP_ALIVE_TIMEOUT_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.MAX_CONNECTIONS) MAX_CONNECTIONS?: string;
  @IsOptional() @Env(ENV_FORMATS.DRAIN_GRACE_MS) DRAIN_GRACE_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.SHUTDOWN_TIMEOUT_MS) SHUTDOWN_TIMEOUT_MS?: string;
  @IsOptional() @Env(ENV_FORMATS.OPS_PORT) OPS_PORT?: string;
  @IsOptional() @Env(ENV_FORMATS.OPS_HOST) OPS_HOST?: string;
  @IsOptional() @Env(ENV_FORMATS.LOG_LEVEL) LOG_LEVEL?: string;
  @IsOptional() @Env(ENV_FORMATS.STATIC_DIR) STATIC_DIR?: string;
  @IsOptional() @Env(ENV_FORMATS.STATIC_CONNECT_SRC) STATIC_CONNECT_SRC?: string;
  @IsOptional() NODE_ENV?: string;
}

/** The variables the gateway reads, in the order their problems are reported. */
export const GATEWAY_VARIABLES = [
  'PORT',
  'HOST',
  'ERS_BASE_URL',
  'ERS_ASID',
  'ERS_TLS_CERT',
  'ERS_TLS_KEY',
  'ERS_TLS_CA',
  'ERS_TIMEOUT_MS',
  'ERS_SESSION_TIMEOUT_MS',
  'ERS_MAX_CONNECTIONS',
  'ERS_LOGIN_CONCURRENCY',
  'ERS_CLOSE_CONCURRENCY',
  'SESSION_STORE',
  'REDIS_URL',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_CLUSTER_NODES',
  'REDIS_ALLOW_VOLATILE',
  'REDIS_MIN_REPLICAS_ACK',
  'SESSION_KEYS',
  'SESSION_IDLE_TIMEOUT_S',
  'SESSION_ABSOLUTE_TIMEOUT_S',
  'SESSION_KEY_CACHE_SIZE',
  'MAX_CALLS_PER_SESSION',
  'MAX_SESSIONS_PER_USER',
  'ADMIN_TOKEN',
  'LOGIN_TOKEN_FAILURES',
  'LOGIN_TOKEN_WINDOW_S',
  'LOGIN_ADDRESS_LIMIT',
  'LOGIN_ADDRESS_WINDOW_S',
  'COOKIE_NAME',
  'COOKIE_SECURE',
  'ALLOWED_ORIGINS',
  'TRUST_PROXY',
  'MAX_BODY_BYTES',
  'HEADERS_TIMEOUT_MS',
  'SESSION_BODY_TIMEOUT_MS',
  'UPLOAD_STALL_TIMEOUT_MS',
  'KEEP_ALIVE_TIMEOUT_MS',
  'MAX_CONNECTIONS',
  'DRAIN_GRACE_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'OPS_PORT',
  'OPS_HOST',
  'LOG_LEVEL',
  'STATIC_DIR',
  'STATIC_CONNECT_SRC',
  'NODE_ENV',
] as const satisfies readonly (keyof GatewayEnvironment)[];

export type GatewayVariable = (typeof GATEWAY_VARIABLES)[number];
