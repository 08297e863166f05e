import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import { ASID, TestSandbox } from './support/sandbox-harness';

describe('sandbox lifecycle', () => {
  it('reports its e-RS base URL with the port actually bound', async () => {
    const sandbox = await TestSandbox.start();
    try {
      expect(sandbox.running.ersBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ers-api$/);
      expect(sandbox.running.ersBaseUrl).not.toContain(':0/');
    } finally {
      await sandbox.close();
    }
  });

  it('closes promptly with a held download and a hung request in flight; the download completes', async () => {
    const sandbox = await TestSandbox.start();
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const download = await request(`${sandbox.origin}/ers-api/STU3/v1/Binary/att-hold`, {
      dispatcher: sandbox.agent,
      headers: [ERS_ASID_HEADER, ASID, ERS_SESSION_KEY_HEADER, key],
    });
    const reading = (async () => {
      let bytes = 0;
      for await (const chunk of download.body) bytes += (chunk as Buffer).length;
      return bytes;
    })();
    await sandbox.control('PUT', '/switches', { hang: { count: 1 } });
    const hung = sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key }).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    await sandbox.running.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await reading).toBe(2 * 1024 * 1024);
    expect(await hung).toBe('failed');
    await sandbox.agent.close();
  });
});
