import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes';

/**
 * The gateway's V8 flags (README, Performance, "Memory and GC") are written in four places: the
 * image, `npm run start:gateway`, `npm run bench` and `npm run bench:instructions`. The benchmarks
 * only describe what is deployed if all four agree, and this Node must accept every flag.
 */
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

function flagsIn(where: string, text: string | undefined): string[] {
  const flags = [...(text ?? '').matchAll(/--[a-z][a-z0-9-]*(?:=[^\s"',\]]+)?/g)].map((match) => match[0]);
  if (flags.length === 0) throw new Error(`no node flags found in ${where}`);
  return flags;
}

const places: Record<string, () => string[]> = {
  Dockerfile: () => {
    const cmd = /^CMD \[(.*)\]$/m.exec(read('Dockerfile'))?.[1];
    return flagsIn('Dockerfile CMD', cmd);
  },
  'package.json start:gateway': () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    return flagsIn('start:gateway', scripts['start:gateway']);
  },
  'scripts/bench.mjs': () => flagsIn('bench.mjs', /GATEWAY_NODE_FLAGS = \[(.*)\]/.exec(read('scripts/bench.mjs'))?.[1]),
  'scripts/count-instructions.mjs': () =>
    flagsIn('count-instructions.mjs', /SHIPPED_FLAGS = \[(.*)\]/.exec(read('scripts/count-instructions.mjs'))?.[1]),
};

describe('the V8 flags the gateway ships with', () => {
  const shipped = places['Dockerfile']!();

  it('are the same in the image, npm run start:gateway and both benchmarks', () => {
    expect(shipped).toContain('--heap-growing-percent=100');
    for (const [where, flags] of Object.entries(places)) expect({ where, flags: flags() }).toEqual({ where, flags: shipped });
  });

  it('are accepted by this Node (an unknown V8 flag makes node exit with "bad option")', async () => {
    const run = promisify(execFile);
    await expect(run(process.execPath, [...shipped, '-e', '0'])).resolves.toBeDefined();
    await expect(run(process.execPath, ['--heap-growing-percent-typo=100', '-e', '0'])).rejects.toThrow(/bad option/);
  });
});
