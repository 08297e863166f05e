import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GATEWAY_LAUNCHER, ROOT } from '../support/processes';

/**
 * The gateway starts one way, `bin/ers-gateway`, and so does every caller: the image,
 * `npm run start:gateway`, `npm start`, both benchmarks and these tests. The V8 flags live in that
 * one file (docs/performance.md, "V8 flags"), so what is tested and measured is what ships.
 */
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

function flagsOf(text: string): string[] {
  return [...text.matchAll(/^\s+(--[a-z][a-z0-9-]*(?:=\S+)?) \\$/gm)].map((match) => match[1] as string);
}

describe('the gateway\'s launcher', () => {
  const flags = flagsOf(read('bin/ers-gateway'));

  it('is what every caller starts', () => {
    expect(/^CMD \["bin\/ers-gateway"\]$/m.test(read('Dockerfile'))).toBe(true);
    expect(read('Dockerfile')).toMatch(/^COPY bin \.\/bin$/m);
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start:gateway']).toBe('bin/ers-gateway');
    expect(read('scripts/demo.mjs')).toContain("join(root, 'bin/ers-gateway')");
    expect(read('scripts/bench.mjs')).toContain("path.join(ROOT, 'bin/ers-gateway')");
    expect(read('scripts/count-instructions.mjs')).toContain("path.join(ROOT, 'bin/ers-gateway')");
    expect(GATEWAY_LAUNCHER).toBe(join(ROOT, 'bin/ers-gateway'));
    // Nothing else names a V8 flag of the gateway's: one place.
    for (const file of ['Dockerfile', 'package.json', 'scripts/demo.mjs', 'scripts/bench.mjs', 'scripts/count-instructions.mjs']) {
      for (const flag of flags) expect(read(file).includes(flag.split('=')[0] as string), `${file} names ${flag}`).toBe(false);
    }
  });

  it('holds the flags measured on Node 24, each accepted by this Node (an unknown V8 flag makes node exit with "bad option")', async () => {
    expect(flags.length).toBeGreaterThan(0);
    const run = promisify(execFile);
    await expect(run(process.execPath, [...flags, '-e', '0'])).resolves.toBeDefined();
    await expect(run(process.execPath, ['--heap-growing-percent-typo=100', '-e', '0'])).rejects.toThrow(/bad option/);
  });

  it('runs on Node 24 or later here (CI installs it from the npm registry when the machine\'s is older)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
    expect((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node).toBe('>=22');
    expect(read('Dockerfile')).toMatch(/^FROM node:24-bookworm-slim/m);
  });
});
