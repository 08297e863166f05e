import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class ChooseRoleDto {
  @ApiProperty({ example: 'REFERRING_CLINICIAN' })
  @IsString({ message: 'businessFunction must be a string' })
  @IsNotEmpty({ message: 'businessFunction must not be empty' })
  @MaxLength(64, { message: 'businessFunction must be at most 64 characters' })
  businessFunction!: string;

  @ApiProperty({ example: 'R01' })
  @IsString({ message: 'orgIdentifier must be a string' })
  @IsNotEmpty({ message: 'orgIdentifier must not be empty' })
  @MaxLength(64, { message: 'orgIdentifier must be at most 64 characters' })
  orgIdentifier!: string;
}
