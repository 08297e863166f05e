import { IsNotEmpty, IsString, ValidateIf } from 'class-validator';

/** Optional, but never `null` (which `@IsOptional()` would let through). */
const Present = (): PropertyDecorator => ValidateIf((_object: unknown, value: unknown) => value !== undefined);

/**
 * `POST /_sandbox/roles/revoke` and `/restore`: whose role, by `sessionKey` (default: the role that
 * session selected) or by card `token` (then name the role); `businessFunction` and
 * `orgIdentifier` together name one of the user's roles.
 */
export class RoleChangeDto {
  @Present() @IsString() @IsNotEmpty() sessionKey?: string;
  @Present() @IsString() @IsNotEmpty() token?: string;
  @Present() @IsString() @IsNotEmpty() businessFunction?: string;
  @Present() @IsString() @IsNotEmpty() orgIdentifier?: string;
}
