/** Runs the store's Lua scripts: EVALSHA with EVAL after NOSCRIPT, and the writes that matter acknowledged by replicas (`WAIT`). */
import { createHash } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import { StoreUnavailableError } from '../errors';
import type { ScriptArg } from './record-codec';
import { type RedisConnection, waitForRedisReady } from './redis-connection';
import type { ScriptReply } from './reply';
import { SCRIPTS, type ScriptDefinition, type ScriptName } from './scripts/session-scripts';

type ScriptCall = (...args: ScriptArg[]) => Promise<ScriptReply>;

/** For `commandOf`: a command made with no arguments (they are set after), and Buffer replies. */
const NO_ARGS: never[] = [];
const BUFFER_REPLY = { replyEncoding: null };
/** How long the writes of a fresh start wait for the acknowledged connection to be up. */
const ACKED_FIRST_READY_MS = 1000;

export interface ScriptRunnerOptions {
  /** The hot path's script, its constants written in (see `beginCallScript`). */
  beginCall: ScriptDefinition;
  /** Replicas that must hold a write that matters; 0: no wait. */
  minReplicasAck: number;
  /** How long such a write waits for its replicas. */
  replicaAckTimeoutMs: number;
}

export class ScriptRunner {
  /** Replies with bulk strings as strings. */
  private readonly scripts: Record<ScriptName, ScriptCall>;
  /** The same scripts, replies with bulk strings as Buffers: for those that return blob pieces. */
  private readonly bufferScripts: Record<ScriptName, ScriptCall>;
  private readonly evalBuffer: ScriptCall;
  private readonly beginCallLua: string;
  private readonly beginCallSha: string;
  private readonly minReplicasAck: number;
  private readonly replicaAckTimeoutMs: number;
  /**
   * The writes that matter, on a connection of their own when they wait for replicas: `WAIT`
   * blocks its connection, and a replica that does not answer must not stall the hot path too.
   */
  private readonly ackedRedis: RedisConnection;
  private readonly ackedScripts: Record<ScriptName, ScriptCall>;
  private readonly ackedBufferScripts: Record<ScriptName, ScriptCall>;
  /** Settles once the acknowledged connection first is ready (or gave up): the writes of a fresh start wait for it. */
  readonly ackedFirstReady: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: RedisConnection,
    options: ScriptRunnerOptions,
  ) {
    this.beginCallLua = options.beginCall.lua;
    this.beginCallSha = createHash('sha1').update(this.beginCallLua).digest('hex');
    this.minReplicasAck = options.minReplicasAck;
    this.replicaAckTimeoutMs = options.replicaAckTimeoutMs;
    [this.scripts, this.bufferScripts] = defineScripts(redis);
    this.evalBuffer = method(redis, 'evalBuffer');
    if (this.minReplicasAck > 0) {
      this.ackedRedis = redis instanceof Redis ? redis.duplicate() : redis.duplicate();
      // The main connection reports the same outages; this one's errors fail its own commands.
      this.ackedRedis.on('error', () => undefined);
      this.ackedFirstReady = waitForRedisReady(this.ackedRedis, ACKED_FIRST_READY_MS).catch(() => undefined);
      [this.ackedScripts, this.ackedBufferScripts] = defineScripts(this.ackedRedis);
    } else {
      this.ackedRedis = redis;
      [this.ackedScripts, this.ackedBufferScripts] = [this.scripts, this.bufferScripts];
    }
  }

  async run(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return guard(() => this.scripts[name](...args));
  }

  /** For scripts whose reply carries blob pieces: bulk strings come back as Buffers. */
  async runBuffer(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return guard(() => this.bufferScripts[name](...args));
  }

  /**
   * A write that matters: on the acknowledged connection, then `WAIT`, which counts the replicas
   * holding every write of that connection so far (sent after the reply, so a script resent as
   * EVAL after NOSCRIPT is covered too).
   */
  async runAcked(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    await this.ackedFirstReady;
    const reply = await guard(() => this.ackedScripts[name](...args));
    await this.acknowledged();
    return reply;
  }

  /** A claim on the acknowledged connection, Buffer replies, not yet acknowledged (see `acknowledgedClaims`). */
  async runClaim(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    await this.ackedFirstReady;
    return guard(() => this.ackedBufferScripts[name](...args));
  }

  /**
   * Claims are sent only once replicas hold them (or a failover could hand the same close to a
   * second instance). Unacknowledged, they are released at once where they were made, so the
   * closes are not held back for a whole lease; if the release is lost too, the lease ends it.
   */
  async acknowledgedClaims(upstreamIds: string[], releaseArgs: (upstreamId: string) => ScriptArg[]): Promise<void> {
    try {
      await this.acknowledged();
    } catch (error) {
      const release = (id: string): Promise<unknown> => this.ackedScripts.ersgwReleaseClose(...releaseArgs(id));
      await Promise.all(upstreamIds.map((id) => release(id).catch(() => undefined)));
      throw error;
    }
  }

  /** Every write of the acknowledged connection so far is held by `minReplicasAck` replicas, or this throws. */
  private async acknowledged(): Promise<void> {
    if (this.minReplicasAck === 0) return;
    const replicas = await guard(() => this.ackedRedis.wait(this.minReplicasAck, this.replicaAckTimeoutMs));
    if (replicas < this.minReplicasAck) {
      throw new StoreUnavailableError(
        `the session store's write was held by ${replicas} of ${this.minReplicasAck} replicas after ${this.replicaAckTimeoutMs} ms`,
      );
    }
  }

  /**
   * The hot path: EVALSHA sent directly (no per-call wrapper closures or promise chains), EVAL
   * only when Redis has lost the script (after a restart or SCRIPT FLUSH). Replies as Buffers.
   */
  async beginCall(key: string, callId: string): Promise<ScriptReply> {
    try {
      try {
        return await this.sendBeginCall(key, callId);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return await this.evalBuffer(this.beginCallLua, '1', key, callId);
      }
    } catch (error) {
      throw new StoreUnavailableError(undefined, { cause: error });
    }
  }

  /**
   * `EVALSHA` of the hot path's script, replies as Buffers. The same command ioredis's
   * `evalshaBuffer` sends, built here because its generated method copies the arguments twice
   * (rest parameters, then `Array.prototype.flat` in `Command`'s constructor) and checks for
   * auto-pipelining on every call (README, Performance: instructions).
   */
  private sendBeginCall(key: string, callId: string): Promise<ScriptReply> {
    return this.redis.sendCommand(commandOf('evalsha', [this.beginCallSha, '1', key, callId], BUFFER_REPLY)) as Promise<ScriptReply>;
  }

  /** Quits the acknowledged connection when it is the runner's own (the main one is the caller's). */
  async close(): Promise<void> {
    if (this.ackedRedis !== this.redis) await quit(this.ackedRedis);
  }
}

/** Every failure of Redis itself is "store unavailable": the gateway answers 503 and keeps the session. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new StoreUnavailableError(undefined, { cause: error });
  }
}

/** Defines the store's scripts on a connection: their methods with string and with Buffer replies. */
function defineScripts(redis: RedisConnection): [Record<ScriptName, ScriptCall>, Record<ScriptName, ScriptCall>] {
  const scripts: Partial<Record<ScriptName, ScriptCall>> = {};
  const bufferScripts: Partial<Record<ScriptName, ScriptCall>> = {};
  for (const [name, def] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    // defineCommand sends EVALSHA and falls back to EVAL when Redis lost its script cache.
    redis.defineCommand(name, def);
    scripts[name] = method(redis, name);
    bufferScripts[name] = method(redis, `${name}Buffer`);
  }
  return [scripts as Record<ScriptName, ScriptCall>, bufferScripts as Record<ScriptName, ScriptCall>];
}

export async function quit(redis: RedisConnection): Promise<void> {
  try {
    await redis.quit();
  } catch {
    // QUIT cannot be sent while Redis is unreachable; dropping the socket is all that is left.
    redis.disconnect();
  }
}

/** A method ioredis adds at run time (defined commands, `<command>Buffer`), which its types do not list. */
function method(redis: RedisConnection, name: string): ScriptCall {
  const fn = (redis as unknown as Record<string, ScriptCall | undefined>)[name];
  if (typeof fn !== 'function') throw new Error(`ioredis did not define ${name}`);
  return fn.bind(redis);
}

/** A command with these arguments as they are (ioredis's constructor would copy them). */
export function commandOf(name: string, args: string[], options?: typeof BUFFER_REPLY): Command {
  const command = new Command(name, NO_ARGS, options);
  command.args = args;
  return command;
}

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
