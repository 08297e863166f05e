// `npm test`: lint and type-check, build, then every test (unit, store, sandbox, system) once.
// The system tests start their own redis-server, sandbox and gateway processes on free ports.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

if (!onPath('redis-server')) {
  process.stderr.write(
    'npm test: redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) or put it on PATH.\n' +
      'The tests start their own redis-server processes on free ports; they never use a Redis you already run.\n',
  );
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
// One plain closing line with the counts, for people and CI alike.
if (existsSync(report)) {
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(readFileSync(report, 'utf8'));
  process.stdout.write(`\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped\n`);
}
process.exit(run.status ?? 1);
