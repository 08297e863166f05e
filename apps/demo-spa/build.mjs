// Builds the demo SPA into dist/demo-spa: type-checks it with its own tsconfig (browser DOM
// library, strict), bundles src/main.ts with esbuild, and copies index.html, app.css and the
// NHS.UK frontend stylesheet with the few images it refers to. Nothing is loaded from a CDN:
// the gateway's CSP allows only 'self'.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, 'dist', 'demo-spa');
const nhsuk = join(root, 'node_modules', 'nhsuk-frontend', 'dist', 'nhsuk');

execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(here, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets', 'images'), { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// The NHS.UK stylesheet loads the Frutiger web font from assets.nhs.uk (licensed, and blocked by
// `font-src 'self'`): drop those @font-face rules so the design system's own fallback, Arial,
// is used without a CSP violation. Image URLs are made relative so the SPA works under any path.
const css = readFileSync(join(nhsuk, 'nhsuk-frontend.min.css'), 'utf8')
  .replace(/@font-face\{[^}]*https:\/\/assets\.nhs\.uk[^}]*\}/g, '')
  .replace(/url\(\/assets\/images\//g, 'url(assets/images/')
  .replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
const external = css.match(/url\((?!assets\/|data:)[^)]*\)/g);
if (external) throw new Error(`nhsuk-frontend.css still refers to ${external.join(', ')}`);
writeFileSync(join(out, 'nhsuk-frontend.css'), css);
for (const image of css.match(/assets\/images\/[A-Za-z0-9._-]+/g) ?? []) {
  copyFileSync(join(nhsuk, image), join(out, image));
}
copyFileSync(join(nhsuk, 'assets', 'images', 'favicon.svg'), join(out, 'favicon.svg'));
copyFileSync(join(nhsuk, 'assets', 'images', 'favicon.ico'), join(out, 'favicon.ico'));
copyFileSync(join(here, 'src', 'index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'src', 'app.css'), join(out, 'app.css'));
// Where the page finds the sandbox (its simulated Identity Agent): the default ports, as
// docker-compose.yml publishes them. `npm start` writes the one it started.
writeFileSync(join(out, 'demo-config.json'), `${JSON.stringify({ sandboxUrl: 'http://localhost:3001' })}\n`);
process.stdout.write(`demo SPA built in ${out}\n`);
