import { Injectable } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import { parameterCodes, type FhirParametersDto } from '../ers-edge/fhir-parameters.dto';
import { searchset, type Bundle } from '../fixtures/fhir';
import { REFERRAL_FIXTURES, referralRequestResource, WORKLIST_TYPES, type WorklistType } from '../fixtures/referrals';

@Injectable()
export class WorklistService {
  /** A008: the referrals on one worklist of the organisation the session's role is at. */
  fetch(body: FhirParametersDto, orgIdentifier: string): Bundle {
    const codes = parameterCodes(body, 'listType');
    const listType = WORKLIST_TYPES.find((type): type is WorklistType => codes.includes(type));
    if (codes.length !== 1 || listType === undefined) {
      throw ErsOutcomeError.invalid(`listType must be one of ${WORKLIST_TYPES.join(', ')}`);
    }
    const referrals = REFERRAL_FIXTURES.filter(
      (referral) => referral.providerOrg === orgIdentifier && referral.worklists.includes(listType),
    );
    return searchset(
      referrals.map(referralRequestResource),
      'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-Bundle-1',
    );
  }
}
