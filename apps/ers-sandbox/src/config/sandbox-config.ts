import { Inject } from '@nestjs/common';
import { isIP } from 'node:net';
import { IsOptional, ValidateBy, validateSync, type ValidationArguments } from 'class-validator';

export const SANDBOX_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type SandboxLogLevel = (typeof SANDBOX_LOG_LEVELS)[number];

/** The sandbox's typed configuration: built once from the environment by `loadSandboxConfig()`. */
export interface SandboxConfig {
  host: string;
  port: number;
  /** The one Accredited System ID accepted in `XAPI_ASID`; anything else is a bare 403. */
  asid: string;
  /** Default duration of A016 (booking), which takes ~2 minutes on the real service. */
  a016DelayMs: number;
  /** Start with the `legacy403` switch on: business 403s bare, as e-RS before 5 November 2024. */
  legacy403: boolean;
  logLevel: SandboxLogLevel;
}

export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');
export const InjectSandboxConfig = (): ParameterDecorator => Inject(SANDBOX_CONFIG);

export const SANDBOX_DEFAULTS: SandboxConfig = {
  host: '127.0.0.1',
  port: 3001,
  asid: '200000000220',
  a016DelayMs: 2000,
  legacy403: false,
  logLevel: 'info',
};

/** Largest delay Node timers accept; a bigger value would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

interface Format<T> {
  expected: string;
  parse(raw: string): T | undefined;
}

const integer = (min: number, max: number): Format<number> => ({
  expected: `an integer from ${min} to ${max}`,
  parse: (raw) => {
    if (!/^\d+$/.test(raw)) return undefined;
    const value = Number(raw);
    return value >= min && value <= max ? value : undefined;
  },
});

const boolean: Format<boolean> = {
  expected: 'true or false',
  parse: (raw) => {
    const value = raw.toLowerCase();
    return value === 'true' ? true : value === 'false' ? false : undefined;
  },
};

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const FORMATS = {
  SANDBOX_HOST: {
    expected: 'an IP address or a host name',
    parse: (raw: string) => (isIP(raw) !== 0 || HOSTNAME.test(raw) ? raw : undefined),
  },
  SANDBOX_PORT: integer(0, 65535),
  SANDBOX_ASID: {
    expected: 'an Accredited System ID (digits only)',
    parse: (raw: string) => (/^\d{1,20}$/.test(raw) ? raw : undefined),
  },
  SANDBOX_A016_DELAY_MS: integer(0, MAX_TIMER_MS),
  SANDBOX_LEGACY_403: boolean,
  SANDBOX_LOG_LEVEL: {
    expected: `one of ${SANDBOX_LOG_LEVELS.join(', ')}`,
    parse: (raw: string) => SANDBOX_LOG_LEVELS.find((level) => level === raw.toLowerCase()),
  },
} satisfies Record<string, Format<unknown>>;

function Env(format: Format<unknown>): PropertyDecorator {
  return ValidateBy({
    name: 'sandboxEnv',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && format.parse(value) !== undefined,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'value'}: expected ${format.expected}, got ${JSON.stringify(args?.value)}`,
    },
  });
}

/** The sandbox's environment as class-validator sees it: absent or non-empty strings. */
export class SandboxEnvironment {
  @IsOptional() @Env(FORMATS.SANDBOX_HOST) SANDBOX_HOST?: string;
  @IsOptional() @Env(FORMATS.SANDBOX_PORT) SANDBOX_PORT?: string;
  @IsOptional() @Env(FORMATS.SANDBOX_ASID) SANDBOX_ASID?: string;
  @IsOptional() @Env(FORMATS.SANDBOX_A016_DELAY_MS) SANDBOX_A016_DELAY_MS?: string;
  @IsOptional() @Env(FORMATS.SANDBOX_LEGACY_403) SANDBOX_LEGACY_403?: string;
  @IsOptional() @Env(FORMATS.SANDBOX_LOG_LEVEL) SANDBOX_LOG_LEVEL?: string;
}

/** Thrown with one line per bad variable; `main.ts` prints them and exits 1. */
export class SandboxConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid sandbox configuration:\n${problems.join('\n')}`);
    this.name = 'SandboxConfigError';
  }
}

type EnvName = keyof typeof FORMATS;

/** Validates the environment once, at boot. Empty variables count as unset (`VAR=` in compose files). */
export function loadSandboxConfig(env: Readonly<Record<string, string | undefined>>): SandboxConfig {
  const environment = new SandboxEnvironment();
  for (const name of Object.keys(FORMATS) as EnvName[]) {
    const raw = env[name]?.trim();
    if (raw !== undefined && raw !== '') environment[name] = raw;
  }
  const problems = validateSync(environment).flatMap((error) => Object.values(error.constraints ?? {}));
  if (problems.length > 0) throw new SandboxConfigError(problems);

  const read = <T>(name: EnvName, format: Format<T>, fallback: T): T => {
    const raw = environment[name];
    return raw === undefined ? fallback : (format.parse(raw) ?? fallback);
  };
  return {
    host: read('SANDBOX_HOST', FORMATS.SANDBOX_HOST, SANDBOX_DEFAULTS.host),
    port: read('SANDBOX_PORT', FORMATS.SANDBOX_PORT, SANDBOX_DEFAULTS.port),
    asid: read('SANDBOX_ASID', FORMATS.SANDBOX_ASID, SANDBOX_DEFAULTS.asid),
    a016DelayMs: read('SANDBOX_A016_DELAY_MS', FORMATS.SANDBOX_A016_DELAY_MS, SANDBOX_DEFAULTS.a016DelayMs),
    legacy403: read('SANDBOX_LEGACY_403', FORMATS.SANDBOX_LEGACY_403, SANDBOX_DEFAULTS.legacy403),
    logLevel: read('SANDBOX_LOG_LEVEL', FORMATS.SANDBOX_LOG_LEVEL, SANDBOX_DEFAULTS.logLevel),
  };
}
