import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes';

const KEEP_TICK_SHAPE = join(ROOT, 'dist/apps/gateway/src/runtime/keep-tick-shape.js');

/**
 * A process that runs bursts of `nextTick`s with full garbage collections in between (no queue
 * entry alive during them, as on a gateway between bursts), then prints the feedback V8 keeps
 * for the object literal `nextTick` builds its entries with: one state per property.
 */
const SCRIPT = `
const keep = process.env.KEEP === '1' ? require(${JSON.stringify(KEEP_TICK_SHAPE)}).tickObjectKept : Promise.resolve();
(async () => {
  await keep;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 500; i++) await new Promise((resolve) => process.nextTick(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
    gc();
    gc();
  }
  await new Promise((resolve) => process.nextTick(resolve));
  %DebugPrint(process.nextTick);
})();
`;

async function literalFeedback(keep: boolean): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--expose-gc', '-e', SCRIPT], {
    env: { PATH: process.env.PATH ?? '', KEEP: keep ? '1' : '0' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return [...stdout.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1] as string);
}

describe('keeping one nextTick entry alive (runtime/keep-tick-shape)', () => {
  it('keeps the feedback of nextTick\'s entry literal monomorphic across full GCs; without it V8 turns it megamorphic', async () => {
    const [without, kept] = await Promise.all([literalFeedback(false), literalFeedback(true)]);
    // The V8 behaviour the module works around: if this stops holding (a newer V8), the module
    // may no longer be needed (README, Performance).
    // One state per property of the literal: 4 on Node 20, 5 on Node 24.
    expect(without.length).toBeGreaterThanOrEqual(4);
    expect(without).toEqual(['MONOMORPHIC', ...without.slice(1).map(() => 'MEGAMORPHIC')]);
    expect(kept).toEqual(without.map(() => 'MONOMORPHIC'));
  });

  it('is the first module the gateway loads', () => {
    const main = readFileSync(join(ROOT, 'dist/apps/gateway/src/main.js'), 'utf8');
    expect([...main.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1])[0]).toBe('./runtime/keep-tick-shape');
  });
});
