import { Type } from 'class-transformer';
import { Equals, IsArray, IsNotEmpty, IsOptional, IsString, ValidateNested } from 'class-validator';

export class CodingDto {
  @IsOptional() @IsString() system?: string;
  @IsString() @IsNotEmpty() code!: string;
}

export class CodeableConceptDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => CodingDto) coding!: CodingDto[];
}

export class ParameterDto {
  @IsString() @IsNotEmpty() name!: string;
  @IsOptional() @ValidateNested() @Type(() => CodeableConceptDto) valueCodeableConcept?: CodeableConceptDto;
  @IsOptional() @IsString() valueString?: string;
  @IsOptional() @IsString() valueCode?: string;
}

/** A FHIR `Parameters` body (A008, A010). Other parameter value types pass unchecked. */
export class FhirParametersDto {
  @Equals('Parameters') resourceType!: 'Parameters';
  @IsArray() @ValidateNested({ each: true }) @Type(() => ParameterDto) parameter!: ParameterDto[];
}

/** The codes a named parameter carries, from `valueCodeableConcept`, `valueCode` or `valueString`. */
export function parameterCodes(body: FhirParametersDto, name: string): string[] {
  return body.parameter
    .filter((parameter) => parameter.name === name)
    .flatMap((parameter) => [
      ...(parameter.valueCodeableConcept?.coding.map((coding) => coding.code) ?? []),
      ...(parameter.valueCode === undefined ? [] : [parameter.valueCode]),
      ...(parameter.valueString === undefined ? [] : [parameter.valueString]),
    ]);
}
