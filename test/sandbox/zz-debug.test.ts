import { it } from 'vitest';
import { request } from 'undici';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import { ASID, TestSandbox } from './support/sandbox-harness';

it.each(['hold'])('close with %s', async (kind) => {
  const sandbox = await TestSandbox.start();
  const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
  if (kind === 'hold') {
    const download = await request(`${sandbox.origin}/ers-api/STU3/v1/Binary/att-hold`, {
      dispatcher: sandbox.agent,
      headers: [ERS_ASID_HEADER, ASID, ERS_SESSION_KEY_HEADER, key],
    });
    void (async () => { let n = 0; for await (const c of download.body) { n += (c as Buffer).length; } console.log('download done', n); })().catch((e: unknown) => console.log('download error', e));
  }
  if (kind === 'hang') {
    await sandbox.control('PUT', '/switches', { hang: { count: 1 } });
    void sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key }).catch(() => undefined);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const server = sandbox.running.app.getHttpServer();
  const t = Date.now();
  console.log('holds', await sandbox.control('GET', '/holds'));
  const timer = setInterval(() => server.getConnections((_e: unknown, n: number) => console.log(kind, Date.now() - t, 'connections', n)), 1000);
  await sandbox.running.close();
  clearInterval(timer);
  console.log(kind, 'closed in', Date.now() - t);
  await sandbox.agent.close();
}, 120_000);
