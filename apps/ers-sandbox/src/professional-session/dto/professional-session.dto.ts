import { Type } from 'class-transformer';
import { Equals, IsDefined, IsNotEmpty, IsString, ValidateNested } from 'class-validator';
import {
  PROFESSIONAL_SESSION_TYPE_INFO,
  type CreateProfessionalSessionRequest,
  type SelectRoleRequest,
} from '@libs/ers-contract';

/** A001 body. */
export class CreateProfessionalSessionDto implements CreateProfessionalSessionRequest {
  @Equals(PROFESSIONAL_SESSION_TYPE_INFO) typeInfo!: typeof PROFESSIONAL_SESSION_TYPE_INFO;
  @IsString() @IsNotEmpty() token!: string;
}

export class PermissionChoiceDto {
  @IsString() @IsNotEmpty() businessFunction!: string;
  @IsString() @IsNotEmpty() orgIdentifier!: string;
}

/** A002 body. */
export class SelectRoleDto implements SelectRoleRequest {
  @Equals(PROFESSIONAL_SESSION_TYPE_INFO) typeInfo!: typeof PROFESSIONAL_SESSION_TYPE_INFO;
  @IsString() @IsNotEmpty() token!: string;
  @IsDefined() @ValidateNested() @Type(() => PermissionChoiceDto) permission!: PermissionChoiceDto;
}
