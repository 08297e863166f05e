import { Injectable } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import type { FhirResource } from '../fixtures/fhir';
import { minimalPdf } from '../fixtures/pdf';
import { referralEtag, referralFixture, referralRequestResource, type ReferralFixture } from '../fixtures/referrals';

const UBRN = /^\d{12}$/;

@Injectable()
export class ReferralsService {
  read(ubrn: string, ersBase: string): { resource: FhirResource; etag: string } {
    const referral = this.find(ubrn);
    return { resource: referralRequestResource(referral, ersBase), etag: referralEtag(referral) };
  }

  /** A007's Clinical Referral Information: a small real PDF. */
  clinicalInformation(ubrn: string): { pdf: Buffer; fileName: string } {
    const referral = this.find(ubrn);
    const pdf = minimalPdf(`Clinical Referral Information - UBRN ${referral.ubrn}`, [
      `Patient: ${referral.patient.given} ${referral.patient.family} (NHS ${referral.patient.nhsNumber})`,
      `Born: ${referral.patient.birthDate}`,
      `Specialty: ${referral.specialty} / ${referral.clinicType}`,
      `Priority: ${referral.priority}`,
      `Referred by ${referral.referrer.userIdentifier} at ${referral.referrer.orgIdentifier} on ${referral.pathwayStart}`,
    ]);
    return { pdf, fileName: `CRI-${referral.ubrn}.pdf` };
  }

  private find(ubrn: string): ReferralFixture {
    const referral = UBRN.test(ubrn) ? referralFixture(ubrn) : undefined;
    // The A005 and A007 pages answer a UBRN with no referral 422 NO_SUCH_REQUEST (a malformed one names none either).
    if (referral === undefined) throw ErsOutcomeError.unprocessable('NO_SUCH_REQUEST', `A referral with UBRN ${ubrn} does not exist`);
    return referral;
  }
}
