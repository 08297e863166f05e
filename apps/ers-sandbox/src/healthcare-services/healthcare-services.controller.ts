import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ErsBodyPipe } from '../ers-edge/ers-body.pipe';
import { ENDPOINT_ROLES, ErsBusinessEndpoint, FHIR_JSON, STU3_PREFIX } from '../ers-edge/ers-route';
import { FhirParametersDto, parameterCodes } from '../ers-edge/fhir-parameters.dto';
import { searchset, type Bundle } from '../fixtures/fhir';
import { HEALTHCARE_SERVICES } from '../fixtures/reference-data';

@Controller(STU3_PREFIX)
export class HealthcareServicesController {
  /** A010 Search for services (referrer roles); an optional `specialty` parameter filters. */
  @Post('HealthcareService/$ers.searchHealthcareServicesForPatient')
  @HttpCode(200)
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A010', ENDPOINT_ROLES.A010)
  search(@Body(new ErsBodyPipe(FhirParametersDto)) body: FhirParametersDto): Bundle {
    const specialties = parameterCodes(body, 'specialty');
    const matches = HEALTHCARE_SERVICES.filter(
      (service) => specialties.length === 0 || specialties.some((code) => JSON.stringify(service.specialty).includes(`"${code}"`)),
    );
    return searchset(matches);
  }
}
