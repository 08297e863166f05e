import { Controller, Get, Header, HttpCode, Param, Post, Res, StreamableFile } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ErsBase } from '../ers-edge/ers-request-context';
import { CLINICAL_ROLES, ErsBusinessEndpoint, FHIR_JSON, PROVIDER_ROLES, STU3_PREFIX } from '../ers-edge/ers-route';
import type { FhirResource } from '../fixtures/fhir';
import { ReferralsService } from './referrals.service';

@Controller(STU3_PREFIX)
export class ReferralsController {
  constructor(private readonly referrals: ReferralsService) {}

  /** A005 Retrieve referral request (as A005_Response.json), with its version as a weak ETag. */
  @Get('ReferralRequest/:ubrn')
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A005', CLINICAL_ROLES)
  read(@Param('ubrn') ubrn: string, @ErsBase() ersBase: string, @Res({ passthrough: true }) reply: FastifyReply): FhirResource {
    const { resource, etag } = this.referrals.read(ubrn, ersBase);
    reply.header('ETag', etag);
    return resource;
  }

  /** A007 Generate Clinical Referral Information (PDF). */
  @Post('ReferralRequest/:ubrn/$ers.generateCRI')
  @HttpCode(200)
  @ErsBusinessEndpoint('A007', PROVIDER_ROLES)
  clinicalInformation(@Param('ubrn') ubrn: string): StreamableFile {
    const { pdf, fileName } = this.referrals.clinicalInformation(ubrn);
    return new StreamableFile(pdf, {
      type: 'application/pdf',
      length: pdf.length,
      disposition: `attachment; filename="${fileName}"`,
    });
  }
}
