import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes';

/**
 * `npm run bench` as the README offers it, in its smallest form: it starts the gateway the way the
 * benchmark does (a throw-away Redis, no drain) and gets answers. Figures are not checked here:
 * speed is measured by the benchmark itself, never asserted in a test.
 */
describe('npm run bench', () => {
  it('runs end to end and every proxied call it makes is answered', async () => {
    const args = ['--quick', '--no-bodies', '--sessions-large', '0', '--sessions-small', '200', '--duration', '1', '--warmup', '0', '--rewarm', '0', '--retries', '0'];
    const child = spawn(process.execPath, [join(ROOT, 'scripts/bench.mjs'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    const row = out.split('\n').find((line) => line.startsWith('| gateway, 200 sessions |'));
    expect(row, out).toBeDefined();
    // The last column counts the requests that failed.
    expect(row!.split('|').map((cell) => cell.trim()).at(-2)).toBe('0');
  }, 60_000);
});
