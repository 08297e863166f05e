import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes';

interface LockEntry {
  name?: string;
  hasInstallScript?: boolean;
}

/**
 * Found in review: installing the project ran `@scarf/scarf`'s install-time telemetry (pulled in
 * by `swagger-ui-dist`, which `@nestjs/swagger` depends on and the gateway never serves). Nothing
 * runs at install time now: `.npmrc` turns install scripts off for every package, and the telemetry
 * package is replaced by an empty one.
 */
describe('installing the project', () => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

  it('runs no package\'s install script (.npmrc: ignore-scripts)', () => {
    const npmrc = readFileSync(join(ROOT, '.npmrc'), 'utf8');
    expect(npmrc).toMatch(/^ignore-scripts=true$/m);
  });

  it('does not install @scarf/scarf\'s telemetry at all', () => {
    const scarf = Object.entries(lock.packages).filter(([path]) => path.endsWith('node_modules/@scarf/scarf'));
    expect(scarf.length).toBeGreaterThan(0);
    for (const [path, entry] of scarf) {
      expect(entry.name, path).toBe('empty-npm-package');
      expect(entry.hasInstallScript, path).toBeUndefined();
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { overrides: Record<string, string> };
    expect(pkg.overrides['@scarf/scarf']).toBe('npm:empty-npm-package@1.0.0');
  });
});
