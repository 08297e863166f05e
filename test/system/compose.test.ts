import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '@libs/config';
import { type GatewayProcess, ROOT, type Sandbox, startGateway, startSandbox } from '../support/processes';
import { type RedisProcess, startRedis } from '../support/redis-server';

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
}

const compose = load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const gatewayEnv = compose.services.gateway!.environment!;

/**
 * `docker-compose.yml` for users with Docker. No Docker engine runs here, so this holds it to
 * what it promises in every way that does not need one: the gateway's environment is valid and
 * serves the demo, the SPA finds the sandbox where compose publishes it, Redis keeps what it
 * acknowledged, and the image has a health check and a small build context. Then the gateway
 * runs with compose's own environment (addresses mapped to local processes).
 */
describe('docker-compose.yml and the image', () => {
  it('describes a gateway whose environment the gateway accepts, serving the demo SPA', () => {
    const config = loadGatewayConfig({ ...gatewayEnv }, { cwd: ROOT });
    expect(config.http.staticDir).toBe(join(ROOT, 'dist/demo-spa'));
    expect(config.http.opsPort).not.toBeNull();
    expect(compose.services.gateway!.ports).toContain('3000:3000');
  });

  it('points the SPA at the sandbox where compose publishes it, and lets the page connect there', () => {
    const published = compose.services['ers-sandbox']!.ports!;
    expect(published).toContain('3001:3001');
    const demoConfig = JSON.parse(readFileSync(join(ROOT, 'dist/demo-spa/demo-config.json'), 'utf8')) as { sandboxUrl: string };
    expect(demoConfig.sandboxUrl).toBe('http://localhost:3001');
    expect(gatewayEnv.STATIC_CONNECT_SRC).toBe(demoConfig.sandboxUrl);
  });

  it('runs Redis as the gateway needs it (AOF every second, no eviction), and checks every service\'s health', () => {
    expect(compose.services.redis!.command!.join(' ')).toMatch(/--appendonly yes .*--appendfsync everysec .*--maxmemory-policy noeviction/);
    for (const name of ['redis', 'ers-sandbox']) expect(compose.services[name]!.healthcheck, name).toBeDefined();
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/\/health\/ready/);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.git', 'node_modules', 'dist', 'test-results']) expect(ignored).toContain(entry);
  });

  describe('the gateway with compose\'s environment', () => {
    let redis: RedisProcess;
    let sandbox: Sandbox;
    let gateway: GatewayProcess;

    beforeAll(async () => {
      // Redis with compose's own command line: the gateway refuses one that cannot keep sessions.
      redis = await startRedis({ args: compose.services.redis!.command!.slice(1) });
      sandbox = await startSandbox();
      const env = { ...gatewayEnv, ERS_BASE_URL: sandbox.ersBaseUrl, REDIS_URL: redis.url, PORT: '', OPS_PORT: '' };
      gateway = await startGateway({ ersBaseUrl: sandbox.ersBaseUrl, redisUrl: redis.url, env: Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'PORT' && name !== 'OPS_PORT')) });
    });

    afterAll(async () => {
      await gateway?.stop();
      await sandbox?.stop();
      await redis?.stop();
    });

    it('serves the demo page and its configuration from its own origin', async () => {
      const page = await fetch(`${gateway.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('<script');
      const config = await fetch(`${gateway.url}/demo-config.json`);
      expect(await config.json()).toEqual({ sandboxUrl: 'http://localhost:3001' });
      expect((await fetch(`${gateway.opsUrl}/health/ready`)).status).toBe(200);
    });
  });
});
