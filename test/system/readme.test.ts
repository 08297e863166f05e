import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CODES } from '../../apps/gateway/src/problem/problem-codes';
import { GATEWAY_VARIABLES } from '@libs/config';
import { ROOT, freePort } from '../support/processes';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README as a new user reads it: a front page that is short, whole and true. */
describe('the README', () => {
  it('is a front page of about 20 KB or less', () => {
    expect(Buffer.byteLength(README)).toBeLessThanOrEqual(20 * 1024);
    for (const heading of ['## Two commands', '## Browser API', '## Configuration', '## Operations', '## Security model', '## Limits']) {
      expect(README).toContain(heading);
    }
  });

  it('has no broken table row (every row has its table\'s number of cells)', () => {
    const cells = (line: string): number => line.replace(/`[^`]*`/g, 'x').split('|').length;
    let expected: number | null = null;
    for (const [index, line] of README.split('\n').entries()) {
      if (!line.startsWith('|')) {
        expected = null;
        continue;
      }
      expected ??= cells(line);
      expect({ line: index + 1, cells: cells(line) }).toEqual({ line: index + 1, cells: expected });
    }
  });

  it('points to nothing outside the repository, and every file it links exists', () => {
    const links = [...README.matchAll(/\]\(([^)]+)\)/g)].map((match) => match[1] as string);
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) {
      expect(link, link).not.toMatch(/^(\.\.\/|\/|https?:)/);
      expect(existsSync(join(ROOT, link.split('#')[0] as string)), link).toBe(true);
    }
    expect(README).not.toMatch(/\.\.\/shared|\/work\/|\/home\/|\/root\//);
  });

  it('lists every configuration variable the gateway reads, and every problem code', () => {
    for (const name of GATEWAY_VARIABLES.filter((variable) => variable !== 'NODE_ENV')) expect(README, name).toContain(`\`${name}\``);
    for (const code of PROBLEM_CODES) expect(README, code).toContain(`\`${code}\``);
  });

  it('nor does anything else in the repository name a path of a particular machine', () => {
    const listed = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
    expect(listed.status).toBe(0);
    const files = listed.stdout.split('\0').filter((file) => file !== '' && existsSync(join(ROOT, file)));
    expect(files.length).toBeGreaterThan(50);
    const named = files.filter((file) => /(^|[\s`'"(=])(\/work\/|\/home\/[a-z]|\/root\/|\/Users\/)/m.test(readFileSync(join(ROOT, file), 'latin1')));
    expect(named).toEqual([]);
  });

  describe('the curl walk-through, run against npm start', () => {
    let demo: ReturnType<typeof spawn> | undefined;
    let port = 0;
    let sandboxPort = 0;

    beforeAll(async () => {
      [port, sandboxPort] = [await freePort(), await freePort()];
      demo = spawn(process.execPath, [join(ROOT, 'scripts/demo.mjs')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', PORT: String(port), SANDBOX_PORT: String(sandboxPort) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      demo.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const deadline = Date.now() + 60_000;
      while (!out.includes('Press Ctrl-C') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    });

    afterAll(() => {
      demo?.kill('SIGINT');
    });

    it('answers each step as its comment says, and leaves no file behind', () => {
      const block = /By hand, against `npm start`[^\n]*\n\n```bash\n([\s\S]*?)```/.exec(README)?.[1];
      expect(block).toBeDefined();
      // Each command, joined over its continuation lines, with the status its comment promises.
      const steps: { command: string; status: number | null }[] = [];
      let pending = '';
      for (const line of (block as string).split('\n')) {
        const comment = /^#\s+(\d{3})\b/.exec(line);
        if (comment !== null) {
          (steps.at(-1) as { status: number | null }).status = Number(comment[1]);
          continue;
        }
        if (line.trim() === '') continue;
        pending += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
        if (!line.endsWith('\\')) {
          steps.push({ command: pending, status: null });
          pending = '';
        }
      }
      const curls = steps.filter((step) => step.command.startsWith('curl'));
      expect(curls.filter((step) => step.status !== null).length).toBeGreaterThanOrEqual(5);

      const cwd = mkdtempSync(join(tmpdir(), 'readme-walk-'));
      try {
        // The demo's ports, and each curl's status written after its body (as the comments show it).
        const script = steps
          .map((step) =>
            step.command
              .replaceAll('localhost:3000', `127.0.0.1:${port}`)
              .replaceAll('localhost:3001', `127.0.0.1:${sandboxPort}`)
              .replace(/^curl -s /, `curl -s -w '\\nSTATUS %{http_code}\\n' `),
          )
          .join('\n');
        const run = spawnSync('bash', ['-euc', script], { cwd, encoding: 'utf8' });
        expect(run.status, run.stderr).toBe(0);
        const statuses = [...run.stdout.matchAll(/^STATUS (\d{3})$/gm)].map((match) => Number(match[1]));
        expect(statuses.length).toBe(curls.length);
        curls.forEach((step, index) => {
          if (step.status !== null) expect({ step: step.command, status: statuses[index] }).toEqual({ step: step.command, status: step.status });
        });
        expect(readdirSync(cwd)).toEqual([]);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  });
});
