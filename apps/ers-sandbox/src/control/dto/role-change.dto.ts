import { IsNotEmpty, IsOptional, IsString } from 'class-validator';

/**
 * `POST /_sandbox/roles/revoke` and `/restore`: whose role, by `sessionKey` (default: the role that
 * session selected) or by card `token` (then name the role); `businessFunction` and
 * `orgIdentifier` together name one of the user's roles.
 */
export class RoleChangeDto {
  @IsOptional() @IsString() @IsNotEmpty() sessionKey?: string;
  @IsOptional() @IsString() @IsNotEmpty() token?: string;
  @IsOptional() @IsString() @IsNotEmpty() businessFunction?: string;
  @IsOptional() @IsString() @IsNotEmpty() orgIdentifier?: string;
}
