// Builds every app and library to dist/ with tsc (CommonJS), then rewrites the @libs/* aliases
// to relative paths so `node dist/...` runs without a loader.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
execFileSync(bin('tsc-alias'), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
// The session store's Lua scripts, read next to their compiled module (session-scripts.js).
const luaDir = 'libs/session-store/src/redis/scripts';
for (const name of readdirSync(join(root, luaDir)).filter((n) => n.endsWith('.lua'))) {
  copyFileSync(join(root, luaDir, name), join(root, 'dist', luaDir, name));
}
// The demo SPA (browser code, bundled by esbuild into dist/demo-spa).
const spaBuild = join(root, 'apps/demo-spa/build.mjs');
if (existsSync(spaBuild)) execFileSync(process.execPath, [spaBuild], { cwd: root, stdio: 'inherit' });
