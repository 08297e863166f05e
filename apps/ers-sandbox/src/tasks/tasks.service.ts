import { Injectable } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import { searchset, type Bundle } from '../fixtures/fhir';
import { referralFixture, taskResources } from '../fixtures/referrals';

const FOCUS = /^ReferralRequest\/(\d{12})\/_history\/(\d+)$/;

/** The query string as parsed: a repeated parameter arrives as an array. */
export type TaskQuery = Record<string, unknown>;

@Injectable()
export class TasksService {
  /** A029: the ready proposals on a referral at the version named; another version has none. */
  search(query: TaskQuery): Bundle {
    const focus = FOCUS.exec(typeof query['focus'] === 'string' ? query['focus'] : '');
    if (focus === null) throw ErsOutcomeError.invalid('focus must be ReferralRequest/{ubrn}/_history/{version}');
    if (query['intent'] !== 'proposal') throw ErsOutcomeError.invalid('intent must be proposal');
    if (query['status'] !== 'ready') throw ErsOutcomeError.invalid('status must be ready');
    const referral = referralFixture(focus[1] ?? '');
    const tasks = referral !== undefined && String(referral.version) === focus[2] ? taskResources(referral) : [];
    return searchset(tasks);
  }
}
