import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes';

/** `npm test` itself, as a new user meets it on a fresh machine. */
describe('npm test', () => {
  it('checks every system prerequisite before it builds anything, and names how to install each', () => {
    // Only Node on PATH: no redis-server, no openssl; and no Chromium where it looks.
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts/test.mjs')], {
      cwd: ROOT,
      env: { PATH: dirname(process.execPath), CHROMIUM_PATH: join(ROOT, 'no-such-chromium') },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain('== lint');
    expect(run.stderr).toContain('apt-get install redis-server');
    expect(run.stderr).toContain('apt-get install chromium');
    expect(run.stderr).toContain('apt-get install openssl');
  });

  it('counts a test file that failed as a whole in its closing line', async () => {
    const { summary } = (await import(join(ROOT, 'scripts/test-summary.mjs'))) as { summary: (report: unknown) => string };
    const report = {
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 1,
      numTodoTests: 0,
      testResults: [{ status: 'passed' }, { status: 'failed' }],
    };
    expect(summary(report)).toBe('tests: 3 passed, 0 failed, 1 skipped; files: 1 passed, 1 failed');
    expect(summary(null)).toMatch(/no report/);
  });
});
