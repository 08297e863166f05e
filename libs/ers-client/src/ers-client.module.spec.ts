import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErsClientModule } from './ers-client.module';
import { assertErsClientOptions, ErsClientOptions } from './ers-client.options';
import { ErsSessionClient } from './ers-session-client.port';
import { ErsUnavailableError } from './errors';

const SESSION_KEY = 'pro-xapi-session_1b2c';

/** A private CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl. */
let dir: string;
let ca: Buffer;
let clientCert: Buffer;
let clientKey: Buffer;
let server: Server;
let baseUrl: string;
const peers: unknown[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ers-client-tls-'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Test NHS CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, subject, ext] of [
    ['server', '/CN=ers.test', ['-extfile', 'server.ext']],
    ['client', '/CN=gateway.test', []],
  ] as const) {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', ...ext);
  }
  ca = readFileSync(join(dir, 'ca.pem'));
  clientCert = readFileSync(join(dir, 'client.pem'));
  clientKey = readFileSync(join(dir, 'client.key'));

  // e-RS requires a client certificate issued by the trusted CA (mutual TLS).
  server = createServer(
    {
      cert: readFileSync(join(dir, 'server.pem')),
      key: readFileSync(join(dir, 'server.key')),
      ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      peers.push((req.socket as TLSSocket).getPeerCertificate().subject?.CN);
      res.writeHead(204).end();
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/ers-api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function deleteWith(options: ErsClientOptions): Promise<unknown> {
  const module = await Test.createTestingModule({ imports: [ErsClientModule.forRoot(options)] }).compile();
  try {
    return await module.get<ErsSessionClient>(ErsSessionClient).deleteSession(SESSION_KEY);
  } catch (error) {
    return error;
  } finally {
    await module.close();
  }
}

describe('ErsClientModule TLS', () => {
  it('speaks mutual TLS with the configured certificate, key and CA', async () => {
    peers.length = 0;
    const result = await deleteWith({ baseUrl, asid: '1', timeoutMs: 5000, tls: { cert: clientCert, key: clientKey, ca } });
    expect(result).toBe('deleted');
    expect(peers).toEqual(['gateway.test']);
  });

  it('never accepts a server it cannot verify (no CA given: the private CA is unknown)', async () => {
    const error = await deleteWith({ baseUrl, asid: '1', timeoutMs: 5000, tls: { cert: clientCert, key: clientKey } });
    expect(error).toBeInstanceOf(ErsUnavailableError);
    expect((error as ErsUnavailableError).cause).toMatchObject({ code: expect.stringMatching(/CERT|SIGNED|VERIFY/) });
  });

  it('is refused by a server that wants a client certificate when none is configured', async () => {
    const error = await deleteWith({ baseUrl, asid: '1', timeoutMs: 5000, tls: { ca } });
    expect(error).toBeInstanceOf(ErsUnavailableError);
  });
});

describe('ErsClientModule.forRootAsync', () => {
  class Settings {
    readonly ersUrl = 'http://127.0.0.1:9/ers-api';
  }
  @Module({ providers: [Settings], exports: [Settings] })
  class SettingsModule {}

  it('builds the options once with a factory and its injected dependencies, and exports them', async () => {
    let calls = 0;
    const module = await Test.createTestingModule({
      imports: [
        ErsClientModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => {
            calls += 1;
            return { baseUrl: settings.ersUrl, asid: '42', timeoutMs: 1000 };
          },
        }),
      ],
    }).compile();
    try {
      expect(calls).toBe(1);
      expect(module.get<ErsClientOptions>(ErsClientOptions)).toEqual({
        baseUrl: 'http://127.0.0.1:9/ers-api',
        asid: '42',
        timeoutMs: 1000,
      });
      expect(module.get<ErsSessionClient>(ErsSessionClient)).toBeDefined();
    } finally {
      await module.close();
    }
  });

  it('fails at start-up on options that cannot work', async () => {
    await expect(
      Test.createTestingModule({
        imports: [ErsClientModule.forRoot({ baseUrl: 'http://h/ers-api', asid: '1', timeoutMs: 1000, tls: { ca } })],
      }).compile(),
    ).rejects.toThrow('ErsClientOptions.tls needs an https baseUrl');
  });
});

describe('assertErsClientOptions', () => {
  it.each([
    [{ baseUrl: 'nope', asid: '1', timeoutMs: 1 }, 'ErsClientOptions.baseUrl is not a URL'],
    [{ baseUrl: 'ftp://h', asid: '1', timeoutMs: 1 }, 'ErsClientOptions.baseUrl must be http or https'],
    [{ baseUrl: 'https://h/ers-api/', asid: '1', timeoutMs: 1 }, 'ErsClientOptions.baseUrl must not end with a slash'],
    [{ baseUrl: 'https://h', asid: 'x', timeoutMs: 1 }, 'ErsClientOptions.asid must be digits'],
    [{ baseUrl: 'https://h', asid: '1', timeoutMs: 0 }, 'ErsClientOptions.timeoutMs must be a positive integer'],
    [{ baseUrl: 'https://h', asid: '1', timeoutMs: 1, tls: { cert: 'c' } }, 'ErsClientOptions.tls needs cert and key together'],
  ])('rejects %o', (options, message) => {
    expect(() => assertErsClientOptions(options)).toThrow(message);
  });

  it('takes null TLS fields as absent (GatewayConfig.ers.tls passes as it is)', () => {
    const tls = { certPath: null, cert: null, keyPath: null, key: null, caPath: null, ca: null };
    expect(() => assertErsClientOptions({ baseUrl: 'http://h/ers-api', asid: '1', timeoutMs: 1, tls })).not.toThrow();
    expect(() => assertErsClientOptions({ baseUrl: 'http://h/ers-api', asid: '1', timeoutMs: 1, tls: null })).not.toThrow();
  });
});
