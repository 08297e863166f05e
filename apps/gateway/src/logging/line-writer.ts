import type { DestinationStream } from 'pino';

interface LineSink {
  write(chunk: Uint8Array | string): unknown;
}

/** Lines wait at most this long to be written… */
const FLUSH_AFTER_MS = 20;
/** …or until this many bytes have gathered. */
const FLUSH_AT_BYTES = 64 * 1024;
/** The most bytes one UTF-16 code unit can take in UTF-8. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/**
 * Log lines on their way to stdout, gathered and written together: at most `FLUSH_AFTER_MS` after
 * the first of them, or as soon as `FLUSH_AT_BYTES` have gathered. A busy instance then writes
 * hundreds of access lines per `write` instead of a few: each write is a system call, and it was
 * most of what logging cost a proxied call (README, Performance).
 *
 * Each line is copied into an off-heap buffer as it comes, so its string dies young. Kept as
 * strings for 20 ms, lines outlived two scavenges and were promoted: the old generation grew by
 * ≈ 10 MB per 45,000 calls, and the full collections that followed put 3-12 ms pauses into the
 * latency tail (measured with `--trace-gc`).
 *
 * On Linux, writes to stdout are synchronous for files and pipes, so a flushed line is out of the
 * process; what is still gathered is flushed by `flush` (pino's `logger.flush`, called on shutdown
 * and on a fatal error) and when the process exits. A process killed with SIGKILL loses at most
 * the last 20 ms of lines. A buffer handed to the sink is never written to again (a stream that
 * writes asynchronously may still hold it), so each flush starts a new one.
 */
export class LineWriter implements DestinationStream {
  private buffer = Buffer.allocUnsafeSlow(FLUSH_AT_BYTES);
  private used = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly sink: LineSink) {}

  write(line: string): void {
    // Room for the longest encoding of the line, or flush first; a line that could not fit even
    // in an empty buffer goes out on its own.
    if (this.used + line.length * MAX_UTF8_BYTES_PER_UNIT > FLUSH_AT_BYTES) {
      this.flushSync();
      if (line.length * MAX_UTF8_BYTES_PER_UNIT > FLUSH_AT_BYTES) {
        this.sink.write(line);
        return;
      }
    }
    this.used += this.buffer.write(line, this.used);
    // unref: gathered lines never keep the process alive; `exit` flushes them.
    if (this.timer === null) this.timer = setTimeout(this.flushSync, FLUSH_AFTER_MS).unref();
  }

  readonly flushSync = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.used === 0) return;
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafeSlow(FLUSH_AT_BYTES);
    this.used = 0;
    this.sink.write(chunk);
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
