import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { ERS_BUSINESS_OPERATIONS, type ErsBusinessOperationId } from '../../ers-edge/ers-route';
import { ERROR_SWITCH_STATUSES, type ErrorSwitchStatus } from '../../state/switches';

const MAX_DELAY_MS = 600_000;
/** Spine lifetimes up to a day: e-RS publishes none, and tests need seconds. */
const MAX_LIFETIME_MS = 86_400_000;

/** Optional, but never `null` (which `@IsOptional()` would let through): for switches that cannot be cleared. */
const Present = (): PropertyDecorator => ValidateIf((_object: unknown, value: unknown) => value !== undefined);

export class FaultSwitchDto {
  @IsInt() @Min(1) count!: number;
  @IsOptional() @IsString() @IsNotEmpty() path?: string;
  @IsOptional() @IsIn(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) method?: string;
}

export class ErrorSwitchDto extends FaultSwitchDto {
  @IsIn(ERROR_SWITCH_STATUSES) status!: ErrorSwitchStatus;
}

/** `PUT /_sandbox/switches`: every property optional; `null` clears a fault switch. */
export class SwitchesDto {
  @IsOptional() @IsInt() @Min(0) @Max(MAX_DELAY_MS) latencyMs?: number;
  @IsOptional() @IsInt() @Min(0) @Max(MAX_DELAY_MS) a016DelayMs?: number;
  @Present() @IsBoolean() legacy403?: boolean;
  /** `null` or 0 switches the lifetime off. */
  @IsOptional() @IsInt() @Min(0) @Max(MAX_LIFETIME_MS) spineIdleMs?: number | null;
  @IsOptional() @IsInt() @Min(0) @Max(MAX_LIFETIME_MS) spineMaxMs?: number | null;
  /** Business operation ids (`A004`…`A029`); `[]` allows them all again. */
  @Present() @IsArray() @ArrayUnique() @IsIn(ERS_BUSINESS_OPERATIONS, { each: true })
  interactionsNotAllowed?: ErsBusinessOperationId[];
  @IsOptional() @ValidateNested() @Type(() => ErrorSwitchDto) error?: ErrorSwitchDto | null;
  @IsOptional() @ValidateNested() @Type(() => FaultSwitchDto) drop?: FaultSwitchDto | null;
  @IsOptional() @ValidateNested() @Type(() => FaultSwitchDto) hang?: FaultSwitchDto | null;
}
