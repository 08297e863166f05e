import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_ROLES } from '../../apps/ers-sandbox/src/ers-edge/ers-route';
import { forbiddenDiagnostics, USER_AUTHORISATION } from './support/forbidden';
import { TestSandbox, type CallOptions } from './support/sandbox-harness';
import { serviceSearch } from './support/service-search';

const RC = 'REFERRING_CLINICIAN';
const RCA = 'REFERRING_CLINICIAN_ADMIN';
const RA = 'REFERRING_ADMIN';
const SPC = 'SERVICE_PROVIDER_CLINICIAN';
const SPA = 'SERVICE_PROVIDER_ADMIN';
const SPCA = 'SERVICE_PROVIDER_CLINICIAN_ADMIN';

/**
 * Who may call what, written out from the SCAL's "e-RS Provider Requirements" sheet
 * (nhsconnect/digital-referrals gh-pages a2183b6, downloads/agreements/SCAL_vsn2.0.xlsx, Apache-2.0);
 * A008 per its page (an SPCA login acts as SPC); A007 has no list there and keeps the provider roles.
 */
const SCAL: Record<string, string[]> = {
  A004: [RC, RCA, SPC],
  A005: [RC, RCA, SPC],
  A006: [RC, RCA, SPC],
  A007: [SPC, SPA, SPCA],
  A008: [SPC, SPA, SPCA],
  A010: [RC, RCA],
  A016: [RC, RCA],
  A020: [RC, RCA, SPC, SPCA],
  A029: [SPC, SPCA],
};

const fhir = (body: unknown): CallOptions => ({
  headers: [['Content-Type', 'application/fhir+json']],
  body: JSON.stringify(body),
});

/** One call per endpoint that an authorised role gets answered (200/201/…): only the 403s matter here. */
const CALLS: Record<string, { method: 'GET' | 'POST'; path: string; options?: CallOptions }> = {
  A004: { method: 'GET', path: '/STU3/v1/CodeSystem/SPECIALTY' },
  A005: { method: 'GET', path: '/STU3/v1/ReferralRequest/000000070000' },
  A006: { method: 'GET', path: '/STU3/v1/Binary/att-70000-letter' },
  A007: { method: 'POST', path: '/STU3/v1/ReferralRequest/000000070000/$ers.generateCRI' },
  A008: {
    method: 'POST',
    path: '/STU3/v1/ReferralRequest/$ers.fetchworklist',
    options: fhir({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'listType',
          valueCodeableConcept: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1', code: 'REFERRALS_FOR_REVIEW' }] },
        },
      ],
    }),
  },
  A010: {
    method: 'POST',
    path: '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient',
    options: fhir(serviceSearch('CARDIOLOGY')),
  },
  A016: { method: 'POST', path: '/STU3/v1/Appointment', options: fhir({ resourceType: 'Appointment', status: 'proposed' }) },
  A020: {
    method: 'POST',
    path: '/STU3/v1/Binary',
    options: { headers: [['Content-Type', 'text/plain'], ['X-ERS-XAPI-META-FILE_NAME', 'note.txt']], body: 'a note' },
  },
  A029: {
    method: 'GET',
    path: `/STU3/v1/Task?focus=${encodeURIComponent('ReferralRequest/000000070000/_history/5')}&intent=proposal&status=ready`,
  },
};

/** The roles the test cards hold (no card holds REFERRING_CLINICIAN_ADMIN: the table check covers it). */
const CARD_ROLES: [businessFunction: string, card: string][] = [
  [RC, 'referrer-two-roles'],
  [RA, 'referrer-two-roles'],
  [SPC, 'provider-three-roles'],
  [SPA, 'provider-three-roles'],
  [SPCA, 'provider-three-roles'],
];

describe('roles per endpoint (SCAL)', () => {
  let sandbox: TestSandbox;
  const keys = new Map<string, string>();
  beforeAll(async () => {
    sandbox = await TestSandbox.start();
    for (const [role, card] of CARD_ROLES) keys.set(role, (await sandbox.session(card, role)).key);
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('the sandbox’s table is the SCAL’s, REFERRING_ADMIN in none of it', () => {
    expect(ENDPOINT_ROLES).toEqual(SCAL);
    expect(Object.values(ENDPOINT_ROLES).flat()).not.toContain(RA);
  });

  const cases = Object.keys(CALLS).flatMap((operation) =>
    CARD_ROLES.map(([role]) => ({ operation, role, allowed: SCAL[operation]?.includes(role) ?? false })),
  );
  it.each(cases)('$operation as $role: allowed $allowed', async ({ operation, role, allowed }) => {
    const call = CALLS[operation];
    if (call === undefined) throw new Error(`no call for ${operation}`);
    const answer = await sandbox.ers(call.method, call.path, { ...call.options, sessionKey: keys.get(role) });
    if (allowed) {
      expect(answer.status, answer.text).toBeLessThan(300);
    } else {
      const diagnostics = forbiddenDiagnostics(answer);
      expect(diagnostics).toMatch(USER_AUTHORISATION);
      expect(diagnostics).toContain('Business Function of');
    }
  });

  it('counted every refusal on its session, which lives on', async () => {
    const sessions = await sandbox.control<{ sessionKey: string; state: string; forbiddenCount: number }[]>('GET', '/sessions');
    for (const [role] of CARD_ROLES) {
      const refused = cases.filter((c) => c.role === role && !c.allowed).length;
      expect(sessions.find((s) => s.sessionKey === keys.get(role)), role).toMatchObject({ state: 'active', forbiddenCount: refused });
    }
  });
});
