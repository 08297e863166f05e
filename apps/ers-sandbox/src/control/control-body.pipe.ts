import type { PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { UnparseableJson } from '../ers-edge/body-parsing';
import { ControlError } from './control-errors';

/** Validates a control body; unknown properties are refused so that a typo never passes silently. */
export class ControlBodyPipe<T extends object> implements PipeTransform<unknown, T> {
  constructor(private readonly dto: new () => T) {}

  transform(value: unknown): T {
    const body = value ?? {};
    if (body instanceof UnparseableJson) throw ControlError.invalid(`The body is not valid JSON: ${body.reason}`);
    if (typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) {
      throw ControlError.invalid('The body must be a JSON object (Content-Type: application/json)');
    }
    const instance = plainToInstance(this.dto, body);
    const problems = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true }).flatMap((error) =>
      describe(error),
    );
    if (problems.length > 0) throw ControlError.invalid(problems.join('; '));
    return instance;
  }
}

function describe(error: ValidationError, parent = ''): string[] {
  const path = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {}).map((message) => message.replace(error.property, path));
  return [...own, ...(error.children ?? []).flatMap((child) => describe(child, path))];
}
