import { Type } from 'class-transformer';
import { Equals, IsArray, IsNotEmpty, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';

export class CodingDto {
  @IsOptional() @IsString() system?: string;
  @IsString() @IsNotEmpty() code!: string;
}

export class CodeableConceptDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => CodingDto) coding!: CodingDto[];
}

export class IdentifierDto {
  @IsOptional() @IsString() system?: string;
  @IsString() @IsNotEmpty() value!: string;
}

export class ParameterDto {
  @IsString() @IsNotEmpty() name!: string;
  @IsOptional() @ValidateNested() @Type(() => CodeableConceptDto) valueCodeableConcept?: CodeableConceptDto;
  @IsOptional() @ValidateNested() @Type(() => CodingDto) valueCoding?: CodingDto;
  @IsOptional() @ValidateNested() @Type(() => IdentifierDto) valueIdentifier?: IdentifierDto;
  @IsOptional() @IsString() valueString?: string;
  @IsOptional() @IsString() valueCode?: string;
  /** A nested resource, e.g. A010's `searchCriteria` Parameters; read by the endpoint that expects it. */
  @IsOptional() @IsObject() resource?: Record<string, unknown>;
}

/** A FHIR `Parameters` body (A008, A010). Other parameter value types pass unchecked. */
export class FhirParametersDto {
  @Equals('Parameters') resourceType!: 'Parameters';
  @IsArray() @ValidateNested({ each: true }) @Type(() => ParameterDto) parameter!: ParameterDto[];
}

/** The codes a named parameter carries, from `valueCodeableConcept`, `valueCoding`, `valueCode` or `valueString`. */
export function parameterCodes(body: FhirParametersDto, name: string): string[] {
  return body.parameter
    .filter((parameter) => parameter.name === name)
    .flatMap((parameter) => [
      ...(parameter.valueCodeableConcept?.coding.map((coding) => coding.code) ?? []),
      ...(parameter.valueCoding === undefined ? [] : [parameter.valueCoding.code]),
      ...(parameter.valueCode === undefined ? [] : [parameter.valueCode]),
      ...(parameter.valueString === undefined ? [] : [parameter.valueString]),
    ]);
}
