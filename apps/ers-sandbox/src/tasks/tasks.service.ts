import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import { CODE_SYSTEM, codeableConcept, ifAny, type Bundle } from '../fixtures/fhir';
import { referralFixture } from '../fixtures/referrals';

const FOCUS = /^ReferralRequest\/(\d{12})\/_history\/(\d+)$/;

/** The query string as parsed: a repeated parameter arrives as an array. */
export type TaskQuery = Record<string, unknown>;

/**
 * A029's errors: the keys are the A029 page's (REFERENCE_NOT_FOUND, HISTORY_NOT_SUPPORTED,
 * MISSING_PARAMETER, INVALID_VALUE); that page gives no status, the e-RS FHIR API gives 400.
 */
function parameter(query: TaskQuery, name: string, expected?: string): string {
  const value = query[name];
  if (value === undefined || value === '') throw ErsOutcomeError.badRequest('MISSING_PARAMETER', `The "${name}" parameter is required`);
  if (typeof value !== 'string' || (expected !== undefined && value !== expected)) {
    throw ErsOutcomeError.badRequest('INVALID_VALUE', `"${name}" must be ${expected ?? 'given once'}`);
  }
  return value;
}

@Injectable()
export class TasksService {
  /**
   * A029: the actions ready for the user on a referral at its current version, as a searchset
   * Bundle of Task (A029_Response.json). Only the current version may be asked for.
   */
  search(query: TaskQuery, ersBase: string): Bundle {
    const focusValue = parameter(query, 'focus');
    const intent = parameter(query, 'intent', 'proposal');
    const status = parameter(query, 'status', 'ready');
    const focus = FOCUS.exec(focusValue);
    if (focus === null) throw ErsOutcomeError.badRequest('INVALID_VALUE', '"focus" must be ReferralRequest/{ubrn}/_history/{version}');
    const referral = referralFixture(focus[1] ?? '');
    if (referral === undefined) throw ErsOutcomeError.badRequest('REFERENCE_NOT_FOUND', `The referral ${focus[1] ?? ''} does not exist`);
    if (String(referral.version) !== focus[2]) {
      throw ErsOutcomeError.badRequest('HISTORY_NOT_SUPPORTED', 'Only the current version of the UBRN is permissible');
    }
    const self = new URLSearchParams({ focus: focusValue, intent, status });
    return {
      id: randomUUID(),
      meta: { lastUpdated: new Date().toISOString(), profile: ['http://hl7.org/fhir/STU3/StructureDefinition/Bundle'] },
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'self', url: `${ersBase}/STU3/v1/Task?${self.toString()}` }],
      ...ifAny(
        'entry',
        referral.tasks.map((task) => ({
          fullUrl: `${ersBase}/STU3/v1/Task/${task.id}`,
          resource: {
            id: task.id,
            meta: { profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Task-1'] },
            resourceType: 'Task',
            status: 'ready',
            intent: 'proposal',
            focus: { reference: `ReferralRequest/${referral.ubrn}/_history/${referral.version}` },
            code: codeableConcept(`${CODE_SYSTEM}/eRS-AvailableActionsForUser-1`, task.code, task.display),
          },
          search: { mode: 'match' as const },
        })),
      ),
    };
  }
}
