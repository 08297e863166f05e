import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ErsBodyPipe } from '../ers-edge/ers-body.pipe';
import { CurrentErsSession } from '../ers-edge/ers-request-context';
import { ENDPOINT_ROLES, ErsBusinessEndpoint, FHIR_JSON, STU3_PREFIX } from '../ers-edge/ers-route';
import { FhirParametersDto } from '../ers-edge/fhir-parameters.dto';
import type { Bundle } from '../fixtures/fhir';
import type { ErsSession } from '../state/ers-session-registry';
import { WorklistService } from './worklist.service';

@Controller(STU3_PREFIX)
export class WorklistController {
  constructor(private readonly worklists: WorklistService) {}

  /** A008 Retrieve worklist (provider roles). */
  @Post('ReferralRequest/$ers.fetchworklist')
  @HttpCode(200)
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A008', ENDPOINT_ROLES.A008)
  fetch(@Body(new ErsBodyPipe(FhirParametersDto)) body: FhirParametersDto, @CurrentErsSession() session: ErsSession): Bundle {
    return this.worklists.fetch(body, session.role?.orgIdentifier ?? '');
  }
}
