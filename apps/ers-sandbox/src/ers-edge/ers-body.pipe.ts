import type { PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ErsOutcomeError } from './ers-errors';
import { UnparseableJson } from './body-parsing';

/** Validates a JSON body against a class-validator DTO; e-RS answers a bad body 422 + OperationOutcome. */
export class ErsBodyPipe<T extends object> implements PipeTransform<unknown, T> {
  constructor(
    private readonly dto: new () => T,
    private readonly errorContentType?: string,
  ) {}

  transform(value: unknown): T {
    if (value instanceof UnparseableJson) throw ErsOutcomeError.invalid(`The request body is not valid JSON: ${value.reason}`, this.errorContentType);
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
      throw ErsOutcomeError.invalid('The request body must be a JSON object', this.errorContentType);
    }
    const instance = plainToInstance(this.dto, value);
    const problems = validateSync(instance).flatMap((error) => describe(error));
    if (problems.length > 0) throw ErsOutcomeError.invalid(problems.join('; '), this.errorContentType);
    return instance;
  }
}

function describe(error: ValidationError, parent = ''): string[] {
  const path = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {}).map((message) => message.replace(error.property, path));
  return [...own, ...(error.children ?? []).flatMap((child) => describe(child, path))];
}
