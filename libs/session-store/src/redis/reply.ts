/** Reading the store scripts' replies: arrays, ids and numbers as text, blob pieces joined. */
import { StoreUnavailableError } from '../errors';

/** A script's reply as ioredis gives it (strings or Buffers, numbers, arrays, null). */
export type ScriptReply = unknown;

export function rows(reply: ScriptReply): unknown[] {
  if (!Array.isArray(reply)) throw new StoreUnavailableError('unexpected reply from the session store');
  return reply as unknown[];
}

/** The first `n` entries of a script's array reply, as strings. */
export function strings(reply: ScriptReply, n: 2): [string, string];
export function strings(reply: ScriptReply, n: 3): [string, string, string];
export function strings(reply: ScriptReply, n: number): string[] {
  const list = rows(reply);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(text(list[i]));
  return out;
}

/** A reply value as text: ids, reasons and numbers (ASCII) from a Buffer or string reply. */
export function text(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new StoreUnavailableError('unexpected reply from the session store');
}

/** A blob's pieces list[from..to) joined (a missing piece counts as empty: the blob then fails to decrypt). */
export function join(list: unknown[], from: number, to: number): Buffer {
  if (to - from === 1 && Buffer.isBuffer(list[from])) return list[from];
  const parts: Buffer[] = [];
  for (let i = from; i < to; i++) {
    const piece = list[i];
    if (Buffer.isBuffer(piece)) parts.push(piece);
  }
  return Buffer.concat(parts);
}
