/**
 * What each e-RS role may call, so the demo offers only screens a role can use (the SCAL's "e-RS
 * Provider Requirements"; e-RS answers 403 otherwise). The A008 page adds that a
 * SERVICE_PROVIDER_CLINICIAN_ADMIN reads the worklist on behalf of a clinician; the SCAL lists it
 * for none of A004-A006.
 */
const RC = 'REFERRING_CLINICIAN';
const RCA = 'REFERRING_CLINICIAN_ADMIN';
const SPC = 'SERVICE_PROVIDER_CLINICIAN';
const SPA = 'SERVICE_PROVIDER_ADMIN';
const SPCA = 'SERVICE_PROVIDER_CLINICIAN_ADMIN';

/** A008 Retrieve worklist. */
const WORKLIST = [SPC, SPA, SPCA];
/** A004 reference data, A005 referral, A006 attachment. */
const REFERRALS = [RC, RCA, SPC];
/** A010 service search. */
const SERVICE_SEARCH = [RC, RCA];

export interface Abilities {
  worklist: boolean;
  /** Open a referral (A005, A006) and name codes with A004. */
  referrals: boolean;
  serviceSearch: boolean;
  /** A010 as a REFERRING_CLINICIAN_ADMIN must name the clinician it searches for. */
  onBehalfOfClinician: boolean;
}

export const abilities = (businessFunction: string): Abilities => ({
  worklist: WORKLIST.includes(businessFunction),
  referrals: REFERRALS.includes(businessFunction),
  serviceSearch: SERVICE_SEARCH.includes(businessFunction),
  onBehalfOfClinician: businessFunction === RCA,
});

/** What the demo offers a role, said on the role radios before the user chooses. */
export function offers(businessFunction: string): string {
  const can = abilities(businessFunction);
  if (can.worklist && can.referrals) return 'Worklist and referrals';
  if (can.worklist) return 'Worklist only: opening a referral is for service provider clinicians';
  if (can.serviceSearch) return 'Service search';
  return 'Nothing in this demo: e-RS lets this role use neither the worklist nor the service search';
}
