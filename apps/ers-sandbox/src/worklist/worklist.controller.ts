import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ErsBodyPipe } from '../ers-edge/ers-body.pipe';
import { CurrentErsSession, ErsBase } from '../ers-edge/ers-request-context';
import { ErsBusinessEndpoint, FHIR_JSON, PROVIDER_ROLES, STU3_PREFIX } from '../ers-edge/ers-route';
import { FhirParametersDto } from '../ers-edge/fhir-parameters.dto';
import type { FhirList } from '../fixtures/fhir';
import type { ErsSession } from '../state/ers-session-registry';
import { WorklistService } from './worklist.service';

@Controller(STU3_PREFIX)
export class WorklistController {
  constructor(private readonly worklists: WorklistService) {}

  /** A008 Retrieve worklist (provider roles): a List, as A008_Response.json. */
  @Post('ReferralRequest/$ers.fetchworklist')
  @HttpCode(200)
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A008', PROVIDER_ROLES)
  fetch(
    // A body that is not Parameters does not conform to the operation's format: the A008 page's INVALID_VALUE.
    @Body(new ErsBodyPipe(FhirParametersDto, { outcomeKey: 'INVALID_VALUE' })) body: FhirParametersDto,
    @CurrentErsSession() session: ErsSession,
    @ErsBase() ersBase: string,
  ): FhirList {
    return this.worklists.fetch(body, session.role?.orgIdentifier ?? '', ersBase);
  }
}
