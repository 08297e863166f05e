import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import { startSandbox, TEST_ASID } from '../support/processes';
import { expectBare403, forbiddenDiagnostics } from './support/forbidden';
import { TestSandbox } from './support/sandbox-harness';

const SPECIALTY = '/STU3/v1/CodeSystem/SPECIALTY';
const A008 = '/STU3/v1/ReferralRequest/$ers.fetchworklist';

/** Every business-403 cause, on a sandbox whose `legacy403` is as the test set it. */
async function everyCause(sandbox: TestSandbox): Promise<Awaited<ReturnType<TestSandbox['ers']>>[]> {
  const referrer = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
  const fresh = (await sandbox.a001(referrer.card.token)).json<{ id: string }>().id;
  return [
    await sandbox.ers('POST', A008, { sessionKey: referrer.key, json: {} }),
    await sandbox.ers('GET', SPECIALTY, { sessionKey: fresh }),
    await sandbox.call('GET', `/ers-api${SPECIALTY}`, { headers: [[ERS_SESSION_KEY_HEADER, referrer.key]] }),
    await sandbox.call('GET', `/ers-api${SPECIALTY}`, { headers: [[ERS_ASID_HEADER, '1'], [ERS_SESSION_KEY_HEADER, referrer.key]] }),
    await sandbox.ers('GET', SPECIALTY, { sessionKey: 'pro-xapi-session_nope' }),
  ];
}

describe('legacy403: e-RS before 5 November 2024', () => {
  describe('the switch', () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await TestSandbox.start();
    });
    afterAll(async () => {
      await sandbox.close();
    });
    beforeEach(async () => {
      await sandbox.control('POST', '/reset');
    });

    it('is off by default: every cause gets an OperationOutcome', async () => {
      expect(await sandbox.control('GET', '/switches')).toMatchObject({ legacy403: false });
      for (const answer of await everyCause(sandbox)) forbiddenDiagnostics(answer);
    });

    it('on: every cause gets a bare 403 (no body, no content type), still counted per session', async () => {
      expect(await sandbox.control('PUT', '/switches', { legacy403: true })).toMatchObject({ legacy403: true });
      for (const answer of await everyCause(sandbox)) expectBare403(answer);
      const [referrer] = await sandbox.control<{ forbiddenCount: number; state: string }[]>('GET', '/sessions');
      // The wrong-role answer and the two ASID refusals named its key.
      expect(referrer).toMatchObject({ state: 'active', forbiddenCount: 3 });
      // Off again: the OperationOutcome is back; reset also puts it back.
      await sandbox.control('PUT', '/switches', { legacy403: false });
      forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY));
      await sandbox.control('PUT', '/switches', { legacy403: true });
      await sandbox.control('POST', '/reset');
      forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY));
    });

    it('refuses a value that is not a boolean, null included', async () => {
      for (const legacy403 of ['true', 1, null]) {
        const answer = await sandbox.call('PUT', '/_sandbox/switches', {
          headers: [['Content-Type', 'application/json']],
          body: JSON.stringify({ legacy403 }),
        });
        expect(answer.status).toBe(400);
        expect(answer.json<{ message: string }>().message).toContain('legacy403');
      }
    });
  });

  describe('the start-up setting', () => {
    it('a sandbox configured with legacy403 starts with the switch on; reset keeps that default', async () => {
      const sandbox = await TestSandbox.start({ legacy403: true });
      try {
        expect(await sandbox.control('GET', '/switches')).toMatchObject({ legacy403: true });
        for (const answer of await everyCause(sandbox)) expectBare403(answer);
        await sandbox.control('PUT', '/switches', { legacy403: false });
        forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY));
        await sandbox.control('POST', '/reset');
        expect(await sandbox.control('GET', '/switches')).toMatchObject({ legacy403: true });
      } finally {
        await sandbox.close();
      }
    });

    it('is read from the environment by the built sandbox (npm run start:sandbox)', async () => {
      const sandbox = await startSandbox({ SANDBOX_LEGACY_403: 'true', SANDBOX_LOG_LEVEL: 'silent' });
      try {
        const answer = await fetch(`${sandbox.ersBaseUrl}${SPECIALTY}`, { headers: { [ERS_ASID_HEADER]: TEST_ASID } });
        expect(answer.status).toBe(403);
        expect(await answer.text()).toBe('');
        const switches = (await (await fetch(`${sandbox.url}/_sandbox/switches`)).json()) as { legacy403: boolean };
        expect(switches.legacy403).toBe(true);
      } finally {
        expect(await sandbox.stop()).toBe(0);
      }
    });

    it('stops the built sandbox with one line naming a malformed SANDBOX_LEGACY_403', async () => {
      await expect(startSandbox({ SANDBOX_LEGACY_403: 'yes' })).rejects.toThrow(
        /exited with 1 at start:\nSANDBOX_LEGACY_403: expected true or false, got "yes"$/,
      );
    });
  });
});
