import type { DestinationStream } from 'pino';

interface LineSink {
  write(chunk: string): unknown;
}

/** Lines wait at most this long to be written… */
const FLUSH_AFTER_MS = 5;
/** …or until this many characters have gathered. */
const FLUSH_AT_CHARS = 64 * 1024;

/**
 * Log lines on their way to stdout, gathered and written together: at most `FLUSH_AFTER_MS` after
 * the first of them, or as soon as `FLUSH_AT_CHARS` have gathered. A busy instance then writes
 * dozens of access lines per `write` instead of a few per event-loop turn: each write is a system
 * call, and it was most of what logging cost a proxied call (README, Performance).
 *
 * Why 5 ms and not longer: a line kept longer than two scavenges (one every 10-20 ms under load)
 * is promoted to the old generation. Kept for up to 20 ms, the lines grew the old generation by
 * ≈ 10 MB per 45,000 calls, and the full collections that followed put 3-12 ms pauses into the
 * latency tail (`--trace-gc`). Copying each line into an off-heap buffer at once avoided that but
 * cost a 100 kB POST 2.6× the CPU in the lab, for a reason not found; so lines stay strings and
 * leave young.
 *
 * On Linux, writes to stdout are synchronous for files and pipes, so a flushed line is out of the
 * process; what is still gathered is flushed by `flush` (pino's `logger.flush`, called on shutdown
 * and on a fatal error) and when the process exits. A process killed with SIGKILL loses at most
 * the last 5 ms of lines.
 */
export class LineWriter implements DestinationStream {
  private lines: string[] = [];
  private chars = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly sink: LineSink) {}

  write(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= FLUSH_AT_CHARS) this.flushSync();
    // unref: gathered lines never keep the process alive; `exit` flushes them.
    else if (this.timer === null) this.timer = setTimeout(this.flushSync, FLUSH_AFTER_MS).unref();
  }

  readonly flushSync = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const lines = this.lines;
    if (lines.length === 0) return;
    this.lines = [];
    this.chars = 0;
    this.sink.write(lines.length === 1 ? (lines[0] as string) : lines.join(''));
  };

  /** pino's `logger.flush(cb)` calls this. */
  flush(callback?: (error?: Error) => void): void {
    this.flushSync();
    callback?.();
  }
}

let stdoutWriter: LineWriter | undefined;

/** The process's one stdout writer (every logger of the process shares it, so lines keep their order). */
export function stdoutLineWriter(): LineWriter {
  if (stdoutWriter === undefined) {
    const writer = new LineWriter(process.stdout);
    process.once('exit', writer.flushSync);
    stdoutWriter = writer;
  }
  return stdoutWriter;
}
