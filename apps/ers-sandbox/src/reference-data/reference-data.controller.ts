import { Controller, Get, Header, Param } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import { ENDPOINT_ROLES, ErsBusinessEndpoint, FHIR_JSON, STU3_PREFIX } from '../ers-edge/ers-route';
import type { FhirResource } from '../fixtures/fhir';
import { CODE_SYSTEMS } from '../fixtures/reference-data';

@Controller(STU3_PREFIX)
export class ReferenceDataController {
  /** A004 Retrieve reference data (any role). */
  @Get('CodeSystem/:id')
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A004', ENDPOINT_ROLES.A004)
  codeSystem(@Param('id') id: string): FhirResource {
    const codeSystem = CODE_SYSTEMS[id];
    if (codeSystem === undefined) throw ErsOutcomeError.notFound(`No CodeSystem ${id}`);
    return codeSystem;
  }
}
