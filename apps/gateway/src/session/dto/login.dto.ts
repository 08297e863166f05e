import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

/** No published length limit; a real client's buffer is 4096 characters. */
export const MAX_TOKEN_LENGTH = 4096;

export class LoginDto {
  @ApiProperty({
    description: 'the smartcard SSO token from the Identity Agent',
    maxLength: MAX_TOKEN_LENGTH,
    example: 'AQIC5wM2LY4S...EXAMPLE...=@AAJTSQACMDE=#',
  })
  @IsString({ message: 'token must be a string' })
  @IsNotEmpty({ message: 'token must not be empty' })
  @MaxLength(MAX_TOKEN_LENGTH, { message: `token must be at most ${MAX_TOKEN_LENGTH} characters` })
   
  @Matches(/^[^\u0000-\u001f\u007f]*$/, { message: 'token must not contain control characters' })
  token!: string;
}
