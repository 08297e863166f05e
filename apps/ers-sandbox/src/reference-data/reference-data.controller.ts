import { Controller, Get, Header, Param } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import { ErsBase } from '../ers-edge/ers-request-context';
import { ANY_ROLE, ErsBusinessEndpoint, FHIR_JSON, STU3_PREFIX } from '../ers-edge/ers-route';
import type { FhirResource } from '../fixtures/fhir';
import { CODE_SYSTEM_IDS, codeSystemResource, type CodeSystemId } from '../fixtures/reference-data';

@Controller(STU3_PREFIX)
export class ReferenceDataController {
  /** A004 Retrieve reference data (any role). */
  @Get('CodeSystem/:id')
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A004', ANY_ROLE)
  codeSystem(@Param('id') id: string, @ErsBase() ersBase: string): FhirResource {
    const known = CODE_SYSTEM_IDS.find((candidate): candidate is CodeSystemId => candidate === id);
    // The A004 page lists no OutcomeKey; an id it does not list is a resource e-RS does not have.
    if (known === undefined) throw ErsOutcomeError.notFound(`No CodeSystem ${id}`);
    return codeSystemResource(known, ersBase);
  }
}
