import { describe, expect, it } from 'vitest';
import { loadSandboxConfig, SandboxConfigError } from './sandbox-config';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadSandboxConfig(env);
  } catch (error) {
    if (error instanceof SandboxConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a SandboxConfigError');
}

describe('loadSandboxConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadSandboxConfig({})).toEqual({
      host: '127.0.0.1',
      port: 3001,
      asid: '200000000220',
      a016DelayMs: 2000,
      legacy403: false,
      logLevel: 'info',
    });
  });

  it('reads every variable, treating empty ones as unset', () => {
    expect(
      loadSandboxConfig({
        SANDBOX_HOST: '0.0.0.0',
        SANDBOX_PORT: '0',
        SANDBOX_ASID: '918999198999',
        SANDBOX_A016_DELAY_MS: '120000',
        SANDBOX_LEGACY_403: 'TRUE',
        SANDBOX_LOG_LEVEL: 'DEBUG',
      }),
    ).toEqual({ host: '0.0.0.0', port: 0, asid: '918999198999', a016DelayMs: 120000, legacy403: true, logLevel: 'debug' });
    expect(loadSandboxConfig({ SANDBOX_PORT: '', SANDBOX_HOST: '  ' }).port).toBe(3001);
  });

  it('gives one line per bad variable, naming it', () => {
    const problems = problemsOf({
      SANDBOX_HOST: 'not a host',
      SANDBOX_PORT: '70000',
      SANDBOX_ASID: 'abc',
      SANDBOX_A016_DELAY_MS: '-5',
      SANDBOX_LEGACY_403: 'yes',
      SANDBOX_LOG_LEVEL: 'loud',
    });
    expect(problems).toHaveLength(6);
    expect(problems.map((line) => line.split(':')[0])).toEqual([
      'SANDBOX_HOST',
      'SANDBOX_PORT',
      'SANDBOX_ASID',
      'SANDBOX_A016_DELAY_MS',
      'SANDBOX_LEGACY_403',
      'SANDBOX_LOG_LEVEL',
    ]);
    expect(problems[1]).toBe('SANDBOX_PORT: expected an integer from 0 to 65535, got "70000"');
    expect(problems[4]).toBe('SANDBOX_LEGACY_403: expected true or false, got "yes"');
  });

  it('reads SANDBOX_LEGACY_403 as true or false, in any case, and refuses anything else', () => {
    expect(loadSandboxConfig({ SANDBOX_LEGACY_403: 'true' }).legacy403).toBe(true);
    expect(loadSandboxConfig({ SANDBOX_LEGACY_403: 'False' }).legacy403).toBe(false);
    expect(loadSandboxConfig({ SANDBOX_LEGACY_403: '' }).legacy403).toBe(false);
    for (const bad of ['1', 'on', 'constructor', 'true!']) {
      expect(problemsOf({ SANDBOX_LEGACY_403: bad })).toEqual([`SANDBOX_LEGACY_403: expected true or false, got "${bad}"`]);
    }
  });
});
