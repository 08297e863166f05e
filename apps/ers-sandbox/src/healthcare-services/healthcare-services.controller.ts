import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ErsBodyPipe } from '../ers-edge/ers-body.pipe';
import { ErsBase } from '../ers-edge/ers-request-context';
import { ErsBusinessEndpoint, FHIR_JSON, REFERRER_ROLES, STU3_PREFIX } from '../ers-edge/ers-route';
import { FhirParametersDto } from '../ers-edge/fhir-parameters.dto';
import type { FhirList } from '../fixtures/fhir';
import { HealthcareServicesService } from './healthcare-services.service';

@Controller(STU3_PREFIX)
export class HealthcareServicesController {
  constructor(private readonly services: HealthcareServicesService) {}

  /** A010 Patient service search (referrer roles): Parameters as A010_Request.json, a List back. */
  @Post('HealthcareService/$ers.searchHealthcareServicesForPatient')
  @HttpCode(200)
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A010', REFERRER_ROLES)
  search(
    @Body(new ErsBodyPipe(FhirParametersDto, { outcomeKey: 'INVALID_VALUE' })) body: FhirParametersDto,
    @ErsBase() ersBase: string,
  ): FhirList {
    return this.services.search(body, ersBase);
  }
}
