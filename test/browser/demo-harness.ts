import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type ConsoleMessage, type Page, chromium } from 'playwright-core';
import { type NodeProcess, ROOT, type Sandbox, startGateway, startSandbox } from '../support/processes';
import { SandboxControl } from '../support/sandbox-control';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SPA_DIR = join(ROOT, 'dist/demo-spa');
const AXE = join(ROOT, 'node_modules/axe-core/axe.min.js');
export const SCREENSHOTS = join(ROOT, 'test-results/screenshots');
const DOC_SCREENSHOTS = join(ROOT, 'docs/screenshots');

/** The demo as `npm start` runs it: the sandbox, and the gateway serving a copy of the built SPA. */
export interface Demo {
  sandbox: Sandbox;
  gateway: NodeProcess;
  control: SandboxControl;
  browser: Browser;
  url: string;
  stop(): Promise<void>;
}

export async function startDemo(): Promise<Demo> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  if (!existsSync(join(SPA_DIR, 'index.html'))) {
    throw new Error(`${SPA_DIR}/index.html is missing: run \`npm run build\` (or node apps/demo-spa/build.mjs) first.`);
  }
  // A copy, so demo-config.json is written beside it without touching dist/ other runs may use.
  const staticDir = mkdtempSync(join(tmpdir(), 'demo-spa-'));
  cpSync(SPA_DIR, staticDir, { recursive: true });
  const sandbox = await startSandbox();
  writeFileSync(join(staticDir, 'demo-config.json'), JSON.stringify({ sandboxUrl: sandbox.url }) + '\n');
  const gateway = await startGateway({
    ersBaseUrl: sandbox.ersBaseUrl,
    env: { STATIC_DIR: staticDir, STATIC_CONNECT_SRC: sandbox.url, LOG_LEVEL: 'warn' },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    sandbox,
    gateway,
    control: new SandboxControl(sandbox.url),
    browser,
    url: gateway.url,
    async stop() {
      await browser.close();
      await gateway.stop();
      await sandbox.stop();
      rmSync(staticDir, { recursive: true, force: true });
    },
  };
}

/** A fresh browser profile with everything the page logs collected. */
export interface Tab {
  context: BrowserContext;
  page: Page;
  /**
   * Every console error and uncaught exception, Chromium's own "Failed to load resource" lines for
   * non-2xx answers included: a test that expects a refused call says which ones it allows.
   */
  errors(): string[];
  /** The /api calls the page made, in order (`GET /api/session`). */
  apiCalls(): string[];
  close(): Promise<void>;
}

/** A console line Chromium writes for a non-2xx answer, e.g. `401 … (http://…/api/session)`. */
export const failedLoad = (status: number, path: RegExp): RegExp =>
  new RegExp(`^Failed to load resource: the server responded with a status of ${status} .*\\(https?://[^/]+${path.source}\\)$`);

export async function openTab(demo: Demo): Promise<Tab> {
  const context = await demo.browser.newContext({ viewport: { width: 1100, height: 800 }, acceptDownloads: true, locale: 'en-GB', timezoneId: 'Europe/London' });
  const page = await context.newPage();
  const messages: string[] = [];
  const calls: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') messages.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => messages.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === demo.url && url.pathname.startsWith('/api/')) calls.push(`${request.method()} ${url.pathname}`);
  });
  return {
    context,
    page,
    errors: () => [...messages],
    apiCalls: () => [...calls],
    close: () => context.close(),
  };
}

export interface AxeSummary {
  screen: string;
  violations: { id: string; impact: string | null; nodes: number }[];
  /** Rules that ran and passed: proof axe looked at the page at all. */
  passes: number;
}
export const axeResults: AxeSummary[] = [];
const axeSource = readFileSync(AXE, 'utf8');

/**
 * Runs axe-core in the page. It is evaluated through the DevTools protocol, which the page's CSP
 * (script-src 'self') does not govern, so the CSP under test stays in force.
 */
export async function axe(page: Page, screen: string): Promise<AxeSummary> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const result = await page.evaluate<Omit<AxeSummary, 'screen'>>(
    `axe.run(document).then((r) => ({ passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) }))`,
  );
  const summary = { screen, ...result };
  axeResults.push(summary);
  return summary;
}

/** The viewport (1100×800) as a user sees it; `selector` shoots one element instead. */
export async function screenshot(page: Page, name: string, selector?: string): Promise<void> {
  const path = join(SCREENSHOTS, `${name}.png`);
  // Focus on a new screen's heading can leave the page scrolled; pictures start at the top.
  await page.evaluate('window.scrollTo(0, 0)');
  if (selector === undefined) await page.screenshot({ path });
  else await page.locator(selector).screenshot({ path });
}

/** `UPDATE_DOC_SCREENSHOTS=1` copies the main screens to docs/screenshots for the README. */
export function publishScreenshots(names: readonly string[]): void {
  if (process.env.UPDATE_DOC_SCREENSHOTS !== '1') return;
  mkdirSync(DOC_SCREENSHOTS, { recursive: true });
  for (const name of names) cpSync(join(SCREENSHOTS, `${name}.png`), join(DOC_SCREENSHOTS, `${name}.png`));
}

/**
 * Polls from the test side. Playwright's waitForFunction evaluates its predicate with eval in
 * the page, which the CSP under test (no 'unsafe-eval') forbids.
 */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
