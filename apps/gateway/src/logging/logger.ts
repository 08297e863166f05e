import { Inject, type LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { stdoutLineWriter } from './line-writer';

/** The process's one structured logger (pino, JSON lines on stdout). */
export const GatewayLogger = Symbol('GatewayLogger');
export type GatewayLogger = Logger;
export const InjectLogger = (): PropertyDecorator & ParameterDecorator => Inject(GatewayLogger);

/**
 * Field names that must never reach a log line. The code does not log them in the first place;
 * this is the belt to those braces (a field added carelessly later is censored, not leaked).
 */
const REDACTED_PATHS = [
  'token',
  'ssoToken',
  'sessionKey',
  'sessionId',
  'cookie',
  '*.token',
  '*.ssoToken',
  '*.sessionKey',
  '*.sessionId',
  '*.cookie',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.cookie',
  'upstream.sessionKey',
  'upstream.ssoToken',
];

export const LOG_SERVICE_NAME = 'ers-gateway';

export function createLogger(level: LevelWithSilent, destination: DestinationStream = stdoutLineWriter()): Logger {
  return pino(
    {
      level,
      base: { service: LOG_SERVICE_NAME },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Lets Nest's own messages (bootstrap, route mapping, errors) go through the same logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }
}
