import type { DestinationStream, LevelWithSilent } from 'pino';
import { LOG_SERVICE_NAME } from './logger';

const LEVEL_VALUES: Readonly<Record<LevelWithSilent, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/** One answered request, as the access log records it. */
export interface AccessEntry {
  method: string;
  /** The path without its query (a query may carry patient identifiers). */
  path: string;
  status: number;
  ms: number;
  correlationId: string;
  upstream: string | undefined;
  ersTransactionId: string | undefined;
}

/**
 * The access log: one JSON line per answer, in exactly the shape the pino logger writes
 * (`level` label, ISO `time`, `service`, the fields, `msg: "request"`), into the same destination.
 * Formatted here rather than by pino because it runs on every proxied call: pino's generic
 * serialiser and redaction pass cost several times as much. It can hold no secret by construction:
 * every field is one of the above (the correlation id is a checked token, the upstream id our own
 * UUID, strings from outside are JSON-escaped), and a test proves no secret reaches it.
 */
export class AccessLog {
  private readonly threshold: number;
  private lastMs = 0;
  private lastIso = '';
  private lastSecond = -1;
  /** `2026-11-26T21:40:05.`: the ISO time up to its milliseconds, formatted once per second. */
  private secondPrefix = '';

  constructor(
    level: LevelWithSilent,
    private readonly destination: DestinationStream,
  ) {
    this.threshold = LEVEL_VALUES[level];
  }

  /** Health checks and scrapes go at `debug`, everything else at `info`. */
  write(level: 'info' | 'debug', entry: AccessEntry): void {
    if (LEVEL_VALUES[level] < this.threshold) return;
    let line = `{"level":"${level}","time":"${this.isoNow()}","service":"${LOG_SERVICE_NAME}","method":${jsonString(entry.method)},"path":${jsonString(entry.path)},"status":${entry.status},"ms":${entry.ms},"correlationId":${jsonString(entry.correlationId)}`;
    if (entry.upstream !== undefined) line += `,"upstream":${jsonString(entry.upstream)}`;
    if (entry.ersTransactionId !== undefined) line += `,"ersTransactionId":${jsonString(entry.ersTransactionId)}`;
    this.destination.write(`${line},"msg":"request"}\n`);
  }

  /**
   * `Date#toISOString` of now, formatted by `Date` once per second and completed with the
   * milliseconds once per millisecond (V8 formats a date through printf: it showed up per line).
   */
  private isoNow(): string {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      const ms = now % 1000;
      const second = now - ms;
      if (second !== this.lastSecond) {
        this.lastSecond = second;
        this.secondPrefix = new Date(second).toISOString().slice(0, 20);
      }
      this.lastIso = `${this.secondPrefix}${MILLISECONDS[ms] as string}Z`;
    }
    return this.lastIso;
  }
}

/** `000` to `999`. */
const MILLISECONDS: readonly string[] = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'));

/** Characters a JSON string cannot hold as they are (and lone surrogates, which JSON.stringify escapes). */
const NEEDS_ESCAPING = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** `JSON.stringify` of a string, without its cost for the usual plain ASCII values. */
export function jsonString(value: string): string {
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`;
}
