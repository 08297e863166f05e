import { executionAsyncResource } from 'node:async_hooks';

let kept: object | undefined;

/**
 * Keeps one of `process.nextTick`'s queue entries alive for the life of the process, so that
 * every later `nextTick` stays on V8's fast path. Importing this module does it; `main.ts` imports
 * it first, before anything else has run long enough for a full garbage collection.
 *
 * Why (docs/performance-log.md, "The slow steady state, explained and fixed"): Node builds each entry with an object
 * literal whose first keys are computed, `{ [async_id_symbol]: …, [trigger_async_id_symbol]: …,
 * callback, args }`. V8 records where such keys lead with feedback that goes from monomorphic
 * straight to megamorphic, with no polymorphic step, when it meets a second hidden class (map).
 * And an entry's maps live only as long as some entry does: a full garbage collection that finds
 * no entry alive (common on a busy process between two bursts, and when idle) lets V8 drop them,
 * and the next entry gets new ones. From then on the feedback is megamorphic for good, and every
 * `nextTick` (several per proxied call) defines its entry's properties through V8's runtime:
 * +46,000 instructions per proxied call under callgrind, about 17 %. An entry kept alive keeps
 * its map, and through its map's back pointers the whole chain, so the feedback stays monomorphic.
 *
 * Resolves with the entry kept (for the test that proves the effect).
 */
export function keepTickObjectShape(): Promise<object> {
  return new Promise((resolve) => {
    process.nextTick(() => {
      // Inside a nextTick callback the current async resource is the queue entry itself.
      kept = executionAsyncResource();
      resolve(kept);
    });
  });
}

/** The entry kept by importing this module. */
export const tickObjectKept: Promise<object> = keepTickObjectShape();
