import type { PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ErsOutcomeError, type OutcomeKey } from './ers-errors';
import { UnparseableJson } from './body-parsing';
import { FHIR_JSON } from './ers-route';

export interface ErsBodyPipeOptions {
  /** The OutcomeKey the endpoint's page gives a malformed body; null where the page lists none. */
  outcomeKey: OutcomeKey | null;
  contentType?: string;
}

/** Validates a JSON body against a class-validator DTO; e-RS answers a bad body 422 + OperationOutcome. */
export class ErsBodyPipe<T extends object> implements PipeTransform<unknown, T> {
  constructor(
    private readonly dto: new () => T,
    private readonly options: ErsBodyPipeOptions,
  ) {}

  transform(value: unknown): T {
    if (value instanceof UnparseableJson) throw this.error(`The request body is not valid JSON: ${value.reason}`);
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
      throw this.error('The request body must be a JSON object');
    }
    const instance = plainToInstance(this.dto, value);
    const problems = validateSync(instance).flatMap((error) => describe(error));
    if (problems.length > 0) throw this.error(problems.join('; '));
    return instance;
  }

  private error(diagnostics: string): ErsOutcomeError {
    const contentType = this.options.contentType ?? FHIR_JSON;
    return this.options.outcomeKey === null
      ? ErsOutcomeError.unprocessableWithoutKey(diagnostics, contentType)
      : ErsOutcomeError.unprocessable(this.options.outcomeKey, diagnostics, contentType);
  }
}

function describe(error: ValidationError, parent = ''): string[] {
  const path = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {}).map((message) => message.replace(error.property, path));
  return [...own, ...(error.children ?? []).flatMap((child) => describe(child, path))];
}
