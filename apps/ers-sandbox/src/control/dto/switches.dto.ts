import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ERROR_SWITCH_STATUSES, type ErrorSwitchStatus } from '../../state/switches';

const MAX_DELAY_MS = 600_000;

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
  @IsOptional() @ValidateNested() @Type(() => ErrorSwitchDto) error?: ErrorSwitchDto | null;
  @IsOptional() @ValidateNested() @Type(() => FaultSwitchDto) drop?: FaultSwitchDto | null;
  @IsOptional() @ValidateNested() @Type(() => FaultSwitchDto) hang?: FaultSwitchDto | null;
}
