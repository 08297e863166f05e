import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, freePort } from '../support/processes';

/** `npm start` as a new user meets it: every address its banner prints answers. */
describe('npm start', () => {
  it('prints a banner whose every address answers, and stops on Ctrl-C', async () => {
    // The built SPA's configuration (what compose serves) is not the demo's to rewrite.
    const builtConfig = () => readFileSync(join(ROOT, 'dist/demo-spa/demo-config.json'), 'utf8');
    const before = builtConfig();
    const [port, sandboxPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(ROOT, 'scripts/demo.mjs')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: String(port), SANDBOX_PORT: String(sandboxPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('Press Ctrl-C') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(out).toContain('Press Ctrl-C');
      const urls = [...out.matchAll(/https?:\/\/[^\s)]+/g)].map((match) => match[0]);
      expect(urls.length).toBeGreaterThanOrEqual(3);
      for (const url of urls) {
        const answer = await fetch(url);
        expect({ url, ok: answer.ok }).toEqual({ url, ok: true });
        await answer.arrayBuffer();
      }
      const served = (await (await fetch(`http://127.0.0.1:${port}/demo-config.json`)).json()) as { sandboxUrl: string };
      expect(served.sandboxUrl).toBe(`http://127.0.0.1:${sandboxPort}`);
      expect(builtConfig()).toBe(before);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
