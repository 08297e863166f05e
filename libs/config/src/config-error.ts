/**
 * The environment is missing or has malformed values. `problems` has one line per bad variable,
 * naming it and what was expected; secret values are never part of a line.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    Object.freeze(this.problems);
  }
}
