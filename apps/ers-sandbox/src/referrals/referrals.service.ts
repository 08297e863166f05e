import { Injectable } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import type { FhirResource } from '../fixtures/fhir';
import { minimalPdf } from '../fixtures/pdf';
import { referralEtag, referralFixture, referralRequestResource, type ReferralFixture } from '../fixtures/referrals';

const UBRN = /^\d{12}$/;

@Injectable()
export class ReferralsService {
  read(ubrn: string): { resource: FhirResource; etag: string } {
    const referral = this.find(ubrn);
    return { resource: referralRequestResource(referral), etag: referralEtag(referral) };
  }

  /** A007's Clinical Referral Information: a small real PDF. */
  clinicalInformation(ubrn: string): { pdf: Buffer; fileName: string } {
    const referral = this.find(ubrn);
    const pdf = minimalPdf(`Clinical Referral Information - UBRN ${referral.ubrn}`, [
      `Patient: ${referral.patient.given} ${referral.patient.family} (NHS ${referral.patient.nhsNumber})`,
      `Born: ${referral.patient.birthDate}`,
      `Specialty: ${referral.specialty} / ${referral.clinicType}`,
      `Priority: ${referral.priority}`,
      `Referred by ${referral.referrer.userIdentifier} at ${referral.referrer.orgIdentifier} on ${referral.authoredOn}`,
    ]);
    return { pdf, fileName: `CRI-${referral.ubrn}.pdf` };
  }

  private find(ubrn: string): ReferralFixture {
    if (!UBRN.test(ubrn)) throw ErsOutcomeError.invalid(`${ubrn} is not a 12-digit UBRN`);
    const referral = referralFixture(ubrn);
    if (referral === undefined) throw ErsOutcomeError.notFound(`No referral with UBRN ${ubrn}`);
    return referral;
  }
}
