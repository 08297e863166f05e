// `npm test`: lint and type-check, build, then every test (unit, store, sandbox, system) once.
// The system tests start their own redis-server, sandbox and gateway processes on free ports.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
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
step('tests', bin('vitest'), ['run', ...process.argv.slice(2)]);
