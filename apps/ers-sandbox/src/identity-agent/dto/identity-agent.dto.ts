import { IsInt, IsNotEmpty, IsOptional, IsString, Min } from 'class-validator';

/** Which card: by `label` or by its `index` in `GET /_sandbox/cards` (exactly one). */
export class InsertCardDto {
  @IsOptional() @IsString() @IsNotEmpty() label?: string;
  @IsOptional() @IsInt() @Min(0) index?: number;
}

/** Which card to take out: by `token` (what the demo holds) or by `label`. */
export class RemoveCardDto {
  @IsOptional() @IsString() @IsNotEmpty() token?: string;
  @IsOptional() @IsString() @IsNotEmpty() label?: string;
}
