/** Clears the in-flight marks of ended calls in batches: one end-calls script command per few milliseconds. */
import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '../errors';
import type { RedisConnection } from './redis-connection';
import { commandOf, isNoScript } from './script-runner';
import { SCRIPTS } from './scripts/session-scripts';

/**
 * How long ended calls wait to be cleared together, and how many go in one command at most. Each
 * command costs a write to Redis (loopback TCP: several microseconds of kernel time, charged to the
 * sender) and its reply; 10 ms keeps that at a small fraction of a call's cost on a busy instance,
 * and a mark cleared 10 ms later changes nothing (a close waits for marks in steps of 200 ms).
 */
const END_CALL_BATCH_MS = 10;
const END_CALL_BATCH_MAX = 256;

/** Ended calls whose marks are cleared in one command; one promise for all of them. */
class EndCallBatch {
  /** The command's arguments as sent: script SHA, no keys, the prefix, then upstream id, call id, … */
  readonly args: string[];
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;

  constructor(sha: string, prefix: string) {
    this.args = [sha, '0', prefix];
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

export class EndCallsBatcher {
  private readonly endCallsSha = createHash('sha1').update(SCRIPTS.ersgwEndCalls.lua).digest('hex');
  private batch: EndCallBatch | null = null;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  /**
   * Batched: every mark cleared within `END_CALL_BATCH_MS` goes in one command, so a busy
   * instance pays a fraction of a round trip per call. The promise settles when that command has.
   */
  endCall(upstreamId: string, callId: string): Promise<void> {
    let batch = this.batch;
    if (batch === null) {
      batch = new EndCallBatch(this.endCallsSha, this.prefix);
      this.batch = batch;
      batch.timer = setTimeout(this.flush, END_CALL_BATCH_MS);
    }
    batch.args.push(upstreamId, callId);
    if (batch.args.length >= END_CALL_BATCH_MAX * 2 + 3) this.flush();
    return batch.done;
  }

  /** Sends the pending batch now and waits for it (on close, so no mark waits for its lease); never fails. */
  async close(): Promise<void> {
    const pending = this.batch?.done.catch(() => undefined);
    this.flush();
    await pending;
  }

  /** Sends the pending batch of ended calls now. */
  private readonly flush = (): void => {
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    clearTimeout(batch.timer);
    this.send(batch.args).then(batch.resolve, batch.reject);
  };

  /**
   * `EVALSHA` of the end-calls script with the batch's own array as its arguments, built here as
   * the hot path's is (ioredis's script method would copy and flatten them); `EVAL` only when
   * Redis has lost the script.
   */
  private async send(args: string[]): Promise<void> {
    try {
      try {
        await this.redis.sendCommand(commandOf('evalsha', args));
      } catch (error) {
        if (!isNoScript(error)) throw error;
        args[0] = SCRIPTS.ersgwEndCalls.lua;
        await this.redis.sendCommand(commandOf('eval', args));
      }
    } catch (error) {
      throw new StoreUnavailableError(undefined, { cause: error });
    }
  }
}
