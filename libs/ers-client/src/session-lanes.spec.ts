import { Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ErsBusyError, ErsTimeoutError } from './errors';
import { ErsLane } from './session-lanes';

const never = (): AbortSignal => new AbortController().signal;

/** A call that ends when its `finish` is called. */
function pending(): { run: () => Promise<string>; finish: (value: string) => void } {
  let finish!: (value: string) => void;
  const done = new Promise<string>((resolve) => (finish = resolve));
  return { run: () => done, finish };
}

describe('ErsLane', () => {
  it('runs at most `limit` calls at once; the others wait, first come first served', async () => {
    const lane = new ErsLane(new Agent(), 2, 10);
    const calls = [pending(), pending(), pending()];
    const order: number[] = [];
    const results = calls.map((call, i) => lane.run('A001', never(), 1000, async () => {
      order.push(i);
      return call.run();
    }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    expect(lane.inFlight).toBe(2);
    calls[1]!.finish('b');
    await results[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2]);
    calls[0]!.finish('a');
    calls[2]!.finish('c');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(lane.inFlight).toBe(0);
    lane.destroy();
  });

  it('refuses at once past `maxWaiting` waiting calls (ErsBusyError), sending nothing', async () => {
    const lane = new ErsLane(new Agent(), 1, 1);
    const first = pending();
    const running = lane.run('A001', never(), 1000, first.run);
    const waiting = lane.run('A001', never(), 1000, async () => 'second');
    let sent = false;
    await expect(lane.run('A001', never(), 1000, async () => ((sent = true), 'third'))).rejects.toBeInstanceOf(ErsBusyError);
    expect(sent).toBe(false);
    first.finish('first');
    expect([await running, await waiting]).toEqual(['first', 'second']);
    lane.destroy();
  });

  it('a call whose deadline passes while it waits gives up its place (ErsTimeoutError) and is never sent', async () => {
    const lane = new ErsLane(new Agent(), 1, 5);
    const first = pending();
    const running = lane.run('A003', never(), 1000, first.run);
    let sent = false;
    const waiting = lane.run('A003', AbortSignal.timeout(50), 50, async () => ((sent = true), 'late'));
    await expect(waiting).rejects.toBeInstanceOf(ErsTimeoutError);
    first.finish('first');
    await running;
    expect(sent).toBe(false);
    expect(lane.inFlight).toBe(0);
    // The slot is free again.
    expect(await lane.run('A003', never(), 1000, async () => 'next')).toBe('next');
    lane.destroy();
  });

  it('frees its slot when a call fails', async () => {
    const lane = new ErsLane(new Agent(), 1, 1);
    await expect(lane.run('A001', never(), 1000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lane.inFlight).toBe(0);
    lane.destroy();
  });

  it('close() waits for the calls in flight and those waiting, then closes the pool', async () => {
    class CountingAgent extends Agent {
      destroyed = 0;
      override destroy(): void {
        this.destroyed += 1;
        super.destroy();
      }
    }
    const agent = new CountingAgent();
    const lane = new ErsLane(agent, 1, 5);
    const first = pending();
    const second = pending();
    const running = lane.run('A003', never(), 1000, first.run);
    const waiting = lane.run('A003', never(), 1000, second.run);
    let closed = false;
    const closing = lane.close().then(() => (closed = true));
    first.finish('first');
    await running;
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect(agent.destroyed).toBe(0);
    second.finish('second');
    expect(await waiting).toBe('second');
    await closing;
    expect(agent.destroyed).toBe(1);
    // An idle lane closes at once.
    const idle = new CountingAgent();
    await new ErsLane(idle, 1, 1).close();
    expect(idle.destroyed).toBe(1);
  });
});
