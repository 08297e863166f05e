// `npm test`: check the machine, then lint and type-check, build, then every test (unit, store,
// sandbox, system, browser) once. The system tests start their own redis-server, sandbox and
// gateway processes on free ports; the browser tests drive Chromium.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summary } from './test-summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function step(title, command, args) {
  process.stdout.write(`\n== ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`\nnpm test: ${title} failed\n`);
    process.exit(result.status ?? 1);
  }
}

// Every system prerequisite, checked before anything is built: one line each, with the command
// that installs it (CI's .ci/run installs them all on a clean Debian machine).
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const nodeMajor = Number(process.versions.node.split('.')[0]);
const missing = [
  nodeMajor < 22 &&
    `Node.js ${process.versions.node} is too old: Node 24 LTS is needed (22 works). Without root: npm i --prefix ~/node24 node@24, then put ~/node24/node_modules/node/bin first on PATH.`,
  !onPath('redis-server') &&
    'redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) or put it on PATH. The tests start their own redis-server processes on free ports; they never use a Redis you already run.',
  !onPath('openssl') && 'openssl not found (the TLS tests make their certificates with it): apt-get install openssl.',
  !existsSync(chromium) &&
    `Chromium not found at ${chromium} (the demo's browser tests drive it): install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH.`,
  !existsSync(join(root, 'node_modules')) && 'node_modules is missing: run npm ci (or npm install) first.',
].filter(Boolean);
if (missing.length > 0) {
  for (const line of missing) process.stderr.write(`npm test: ${line}\n`);
  process.exit(1);
}

step('lint', bin('eslint'), ['.']);
step('type-check', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('build', process.execPath, [join(root, 'scripts/build.mjs')]);
const report = join(root, 'test-results', 'vitest.json');
rmSync(report, { force: true });
process.stdout.write('\n== tests\n');
const run = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.stdout.write(`\n${summary(existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : null)}\n`);
process.exit(run.status ?? 1);
