import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import { GatewayError } from '../../problem/gateway-error';

/**
 * Validates a parsed JSON body against a DTO class. Runs inside guards (the login strategy needs
 * a valid token before it may call e-RS), where Nest's ValidationPipe has not run yet.
 */
export function validateDto<T extends object>(type: ClassConstructor<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid-request', 'The request body must be a JSON object.');
  }
  const dto = plainToInstance(type, body);
  const errors = validateSync(dto, { forbidUnknownValues: true, stopAtFirstError: true });
  const first = errors[0];
  if (first !== undefined) {
    const message = Object.values(first.constraints ?? {})[0] ?? `${first.property} is invalid`;
    throw new GatewayError('invalid-request', `${message}.`);
  }
  return dto;
}
