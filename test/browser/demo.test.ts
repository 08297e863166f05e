import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes';
import { jsonPaths, published } from '../sandbox/support/json-shape';
import { type Card } from '../support/sandbox-control';
import { type Demo, type Tab, axe, axeResults, failedLoad, openTab, publishScreenshots, screenshot, startDemo, until } from './demo-harness';

/** The demo SPA in real Chromium against the real gateway and sandbox processes. */
describe('the demo SPA in Chromium', () => {
  let demo: Demo;
  let tab: Tab;
  let page: Page;
  let cards: Card[];

  const card = (label: string): Card => {
    const found = cards.find((candidate) => candidate.label === label);
    if (found === undefined) throw new Error(`no test card ${label}`);
    return found;
  };

  /** Waits for the screen's h1 to read `text` and checks that focus moved to it. */
  async function onScreen(text: string): Promise<void> {
    const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await page.locator('#screen h1').filter({ hasText: new RegExp(`^${escaped}$`) }).waitFor();
    expect(await page.title()).toMatch(new RegExp(`^(Error: )?${escaped} – e-RS session gateway demo$`));
    expect(await page.evaluate(`document.activeElement?.tagName === 'H1' && document.activeElement.textContent`)).toBe(text);
  }

  /** Axe on the current screen: nothing serious or critical. */
  async function accessible(screen: string): Promise<void> {
    const summary = await axe(page, screen);
    expect(summary.passes).toBeGreaterThan(10);
    expect(summary.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')).toEqual([]);
  }

  async function insertCard(label: string): Promise<void> {
    await page.getByLabel(`(${label})`, { exact: false }).check();
    await page.getByRole('button', { name: 'Insert card and sign in' }).click();
  }

  async function chooseRole(role: string, submit = 'Continue'): Promise<void> {
    expect(await checkedRadios()).toBe(0);
    await page.getByLabel(role, { exact: true }).check();
    await page.getByRole('button', { name: submit, exact: true }).click();
  }

  /** From the signed-out page: the card inserted, the role chosen. */
  async function signIn(card: string, role: string): Promise<void> {
    await page.goto(demo.url);
    await onScreen('Insert your smartcard');
    await insertCard(card);
    await onScreen('Choose your role');
    await chooseRole(role);
  }

  /** NHS.UK radios are never pre-selected: how many are checked on the screen now. */
  const checkedRadios = async (): Promise<number> => page.locator('#screen input[type="radio"]:checked').count();

  /** What e-RS received, oldest first, as `A004 GET /ers-api/STU3/v1/CodeSystem/SPECIALTY 200`. */
  async function ersCalls(): Promise<string[]> {
    return (await demo.control.requests()).map((request) => `${request.operation ?? '-'} ${request.method} ${request.path} ${request.status ?? 'none'}`);
  }

  /** The newest call in "What e-RS received", once it is the given operation. */
  async function newestCall(operation: string, notKey?: string): Promise<{ asid: string; key: string; names: string }> {
    const row = page.locator('#ers-panel table.app-requests tbody tr').first();
    const read = async (): Promise<{ call: string; key: string }> =>
      (await row.count()) === 0 ? { call: '', key: '' } : { call: await row.locator('td').first().innerText(), key: (await row.locator('.app-key').innerText()).replace(/^key ending\s*/, '') };
    await until(read, (seen) => seen.call.startsWith(operation) && seen.key !== notKey, `${operation} in "What e-RS received"`);
    return {
      asid: await row.locator('.app-asid').innerText(),
      key: (await row.locator('.app-key').innerText()).replace(/^key ending\s*/, ''),
      names: await row.locator('.app-header-names').innerText(),
    };
  }

  async function liveKey(): Promise<string> {
    const sessions = (await demo.control.sessions()).filter((session) => session.state === 'active');
    expect(sessions).toHaveLength(1);
    return sessions[0]!.sessionKey;
  }

  async function problemFor(token: string): Promise<{ title: string; detail: string; code: string }> {
    const response = await fetch(`${demo.url}/api/session`, {
      method: 'POST',
      headers: { 'x-csrf': '1', 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    return (await response.json()) as { title: string; detail: string; code: string };
  }

  beforeAll(async () => {
    demo = await startDemo();
    cards = await demo.control.cards();
  });

  afterAll(async () => {
    await demo?.stop();
    if (axeResults.length > 0) {
      writeFileSync(join(ROOT, 'test-results/axe-summary.json'), JSON.stringify(axeResults, null, 2) + '\n');
      const lines = axeResults.map(({ screen, violations, passes }) => {
        const count = (impact: string): number => violations.filter((violation) => violation.impact === impact).length;
        return `  ${screen.padEnd(22)} critical ${count('critical')}, serious ${count('serious')}, moderate ${count('moderate')}, minor ${count('minor')}; ${passes} rules passed${
          violations.length === 0 ? '' : ` (${violations.map((violation) => violation.id).join(', ')})`
        }`;
      });
      process.stdout.write(`axe-core violations per screen:\n${lines.join('\n')}\n`);
    }
    publishScreenshots(['insert-card', 'choose-role', 'worklist', 'what-ers-received', 'referral', 'services', 'session-ended', 'invalid-card']);
  });

  beforeEach(async () => {
    await demo.control.reset();
    tab = await openTab(demo);
    page = tab.page;
  });

  afterEach(async () => {
    await tab.close();
  });

  it('serves the SPA under a CSP that is really in force', async () => {
    const response = await page.goto(demo.url);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${demo.sandbox.url}`);
    expect(csp).toContain("frame-ancestors 'none'");
    await onScreen('Insert your smartcard');
    expect(tab.errors()).toEqual([]);
    // An inline script is refused: the browser enforces the header, not just receives it.
    const ran = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.head.append(script);
      return window.__inlineRan === true;
    })()`);
    expect(ran).toBe(false);
    await page.waitForTimeout(100);
    expect(tab.errors().some((error) => /Content Security Policy/.test(error))).toBe(true);
  });

  it('loads signed out with no console error: no radio chosen, no session call that could fail', async () => {
    await page.goto(demo.url);
    await onScreen('Insert your smartcard');
    await page.locator('#ers-panel .app-no-requests').waitFor();
    expect(await checkedRadios()).toBe(0);
    // Nothing hints that this browser signed in, so the page does not ask for a session it has not got.
    expect(tab.apiCalls()).toEqual([]);
    // Sending the form without a card says what is missing, next to the radios.
    await page.getByRole('button', { name: 'Insert card and sign in' }).click();
    const summary = page.locator('#screen .nhsuk-error-summary');
    await summary.waitFor();
    expect(await summary.innerText()).toContain('Select a test smartcard to insert');
    expect(await page.locator('#screen .nhsuk-error-message').innerText()).toContain('Select a test smartcard to insert');
    expect(await page.evaluate(`document.activeElement?.classList.contains('nhsuk-error-summary')`)).toBe(true);
    expect(tab.apiCalls()).toEqual([]);
    expect(tab.errors()).toEqual([]);
  });

  it('walks the provider flow: card, role, worklist, referral, attachment download, clinical information PDF', async () => {
    const fixtures = (await (await fetch(`${demo.sandbox.url}/_sandbox/fixtures/binaries`)).json()) as { id: string; sha256: string; fileName: string }[];
    await page.goto(demo.url);
    await onScreen('Insert your smartcard');
    await accessible('insert-card');
    await screenshot(page, 'insert-card');

    await insertCard('provider-three-roles');
    await onScreen('Choose your role');
    expect(await page.locator('#session-panel').innerText()).toContain('Rajesh Patel');
    await accessible('choose-role');
    await screenshot(page, 'choose-role');
    // No role is chosen for the user: Continue says a choice is needed.
    expect(await checkedRadios()).toBe(0);
    const hint = await page.getByRole('button', { name: 'Continue', exact: true }).getAttribute('aria-describedby');
    expect(await page.locator(`#${hint}`).innerText()).toBe('Select one role, then continue.');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.locator('#screen .nhsuk-error-summary').waitFor();
    expect(await page.locator('#screen .nhsuk-error-summary').innerText()).toContain('Select a role to continue');
    expect(await page.locator('#screen .nhsuk-error-message').innerText()).toContain('Select a role to continue');
    expect(await page.title()).toBe('Error: Choose your role – e-RS session gateway demo');
    await accessible('choose-role-error');

    await chooseRole('Service provider clinician at SANDBOX ACUTE HOSPITALS NHS TRUST (R01)');
    await onScreen('Referrals worklist');
    // The A008 List: names and NHS number from its contained Patient, shown 3-3-4; specialty named by A004.
    const worklist = await page.locator('#screen table.app-worklist').innerText();
    expect(worklist).toContain('0000 0007 0000');
    expect(worklist).toContain('900 000 0009');
    expect(worklist).toContain('0000 0007 0001');
    expect(worklist).toContain('Cardiology');
    expect(worklist).toContain('Routine');
    expect(worklist).not.toMatch(/CARDIOLOGY|ROUTINE|9000000009/);
    const nhsNumbers = await page.locator('#screen table.app-worklist .app-nhs-number').allInnerTexts();
    expect(nhsNumbers.length).toBeGreaterThan(0);
    for (const nhsNumber of nhsNumbers) expect(nhsNumber).toMatch(/^\d{3} \d{3} \d{4}$/);
    // The idle and absolute expiry count down live.
    const idle = page.locator('#session-panel [data-expires-at]').first();
    const before = await idle.innerText();
    expect(before).toMatch(/^\d+:\d\d left \(at \d\d:\d\d:\d\d\)$/);
    await until(() => idle.innerText(), (now) => now !== before, 'the idle countdown to tick');
    expect(await page.locator('#session-panel [data-expires-at]').nth(1).innerText()).toMatch(/^\d+:\d\d:\d\d left/);

    // What e-RS received: the ASID and the session key the gateway added, no cookie, no X-CSRF.
    const call = await newestCall('A008');
    expect((await demo.control.requests()).find((request) => request.operation === 'A008')?.status).toBe(200);
    expect(call.asid).toBe('200000000220');
    const key = await liveKey();
    expect(call.key).toBe(`••••${key.slice(-4)}`);
    expect(call.names).toContain('XAPI_ASID');
    expect(call.names).toContain('HTTP_X_SESSION_KEY');
    expect(call.names.toLowerCase()).not.toMatch(/\bcookie\b|x-csrf/);
    expect(await page.locator('[data-header-check="Cookie"]').innerText()).toBe('None reached e-RS');
    expect(await page.locator('[data-header-check="X-CSRF"]').innerText()).toBe('None reached e-RS');
    expect(await page.locator('#ers-panel').innerText()).not.toContain(key);
    for (const request of await demo.control.requests()) {
      expect(request.headers.map(([name]) => name.toLowerCase())).not.toContain('cookie');
      expect(request.headers.map(([name]) => name.toLowerCase())).not.toContain('x-csrf');
    }
    await accessible('worklist');
    await screenshot(page, 'worklist');
    await screenshot(page, 'what-ers-received', '#ers-panel');

    // Opening a referral asks A005 only for what the List lacks: clinic type (named by A004), attachments.
    await page.getByRole('link', { name: 'Open referral 0000 0007 0000' }).click();
    await onScreen('Referral 0000 0007 0000');
    const referral = await page.locator('#screen .app-referral').innerText();
    expect(referral).toContain('900 000 0009');
    expect(referral).toContain('Cardiology');
    expect(referral).toContain('Routine');
    // The booked appointment, contained in A005 (A005_Response.json's Appointment).
    expect(referral).toMatch(/Appointment\s+20 Nov 2026, 10:30, Cardiology - Rapid Access Chest Pain Clinic/);
    expect(referral).not.toMatch(/CARDIOLOGY|ROUTINE|9000000009/);
    await accessible('referral');

    const letter = fixtures.find((fixture) => fixture.id === 'att-70000-letter')!;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${letter.fileName}` }).click()]);
    expect(download.suggestedFilename()).toBe(letter.fileName);
    const downloaded = readFileSync(await download.path());
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(letter.sha256);
    await page.locator('#screen .app-notice').filter({ hasText: `Downloaded ${letter.fileName}` }).waitFor();
    await newestCall('A006');

    const results = fixtures.find((fixture) => fixture.id === 'att-70000-results')!;
    const [pdfAttachment] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${results.fileName}` }).click()]);
    expect(createHash('sha256').update(readFileSync(await pdfAttachment.path())).digest('hex')).toBe(results.sha256);

    const [cri] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download clinical information (PDF)' }).click()]);
    const pdf = readFileSync(await cri.path());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(cri.suggestedFilename()).toMatch(/\.pdf$/);
    await newestCall('A007');
    await onScreen('Referral 0000 0007 0000');
    await screenshot(page, 'referral');

    // Back to the worklist: the reference data is not fetched again (once per page load).
    await page.getByRole('link', { name: 'Back to worklist' }).click();
    await onScreen('Referrals worklist');
    await newestCall('A008');
    const calls = await ersCalls();
    expect(calls.filter((line) => line.includes('/CodeSystem/SPECIALTY'))).toHaveLength(1);
    // e-RS's A005 names no clinic type (A005_Response.json), so there is nothing to look up.
    expect(calls.filter((line) => line.includes('/CodeSystem/CLINIC-TYPE'))).toHaveLength(0);
    expect(calls.filter((line) => line.startsWith('A005 '))).toHaveLength(1);
    expect(calls.filter((line) => !/ 20\d$/.test(line))).toEqual([]);
    expect(tab.errors()).toEqual([]);
  });

  it('walks the referrer flow: card, role, service search with the documented A010 request', async () => {
    const sent: { url: string; body: string }[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/$ers.searchHealthcareServicesForPatient')) sent.push({ url: request.url(), body: request.postData() ?? '' });
    });
    await page.goto(demo.url);
    await onScreen('Insert your smartcard');
    await insertCard('referrer-two-roles');
    await onScreen('Choose your role');
    expect(await page.locator('#screen').innerText()).toContain('Nothing in this demo');
    await chooseRole('Referring clinician at THE DENSHAM SURGERY (A81001)');
    await onScreen('Find a service');
    await newestCall('A004');
    const specialties = await page.getByLabel('Specialty').locator('option').allInnerTexts();
    expect(specialties).toEqual(['Select a specialty', 'Cardiology', 'Dermatology', 'Physiotherapy', 'Gastroenterology']);

    // Sent incomplete: the form says what is missing and e-RS is not asked.
    await page.getByRole('button', { name: 'Search services' }).click();
    await page.locator('#screen .nhsuk-error-summary').waitFor();
    expect(await page.locator('#screen .nhsuk-error-summary').innerText()).toMatch(/Enter the patient’s NHS number[\s\S]*Select a specialty[\s\S]*Select a clinic type/);
    await accessible('services-error');
    expect(sent).toEqual([]);

    await page.getByLabel('Patient’s NHS number').fill('900 000 0009');
    await page.getByLabel('Specialty').selectOption({ label: 'Cardiology' });
    // Only the chosen specialty's clinic types, by name, and only those e-RS still offers (no ended one).
    expect(await page.getByLabel('Clinic type').locator('option').allInnerTexts()).toEqual(['Select a clinic type', 'Rapid Access Chest Pain', 'Heart Failure']);
    await page.getByLabel('Clinic type').selectOption({ label: 'Rapid Access Chest Pain' });
    await page.getByRole('button', { name: 'Search services' }).click();
    await page.locator('#screen table.app-services').waitFor();
    await onScreen('Find a service');
    await newestCall('A010');

    // The body the page sent has A010_Request.json's structure (no field the example lacks) and
    // its four mandatory parameters: patient, requestType, sortBy and searchCriteria.
    expect(sent).toHaveLength(1);
    const body = JSON.parse(sent[0]!.body) as { resourceType: string; parameter: { name: string; [value: string]: unknown }[] };
    const documented = jsonPaths(published('A010_Request.json'));
    expect([...jsonPaths(body)].filter((path) => !documented.has(path))).toEqual([]);
    expect(body.resourceType).toBe('Parameters');
    expect(body.parameter.map((parameter) => parameter.name).sort()).toEqual(['patient', 'requestType', 'searchCriteria', 'sortBy']);
    const parameter = (name: string): Record<string, unknown> => body.parameter.find((candidate) => candidate.name === name)!;
    expect(parameter('patient')).toEqual({ name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: '9000000009' } });
    expect(parameter('requestType')).toEqual({ name: 'requestType', valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-RequestType-1', code: 'APPOINTMENT_REQUEST' } });
    expect(parameter('sortBy')).toEqual({ name: 'sortBy', valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-SortBy-1', code: 'DISTANCE' } });
    const criteria = parameter('searchCriteria').resource as { resourceType: string; parameter: { name: string; valueCoding: { system: string; code: string } }[] };
    expect(criteria.resourceType).toBe('Parameters');
    expect(criteria.parameter.map((criterion) => [criterion.name, criterion.valueCoding.code])).toEqual([
      ['priority', 'ROUTINE'],
      ['specialty', 'CARDIOLOGY'],
      ['clinicType', 'RAPID_ACCESS_CHEST_PAIN_INC_EXERCISE_ECG'],
    ]);
    // Specialty codes are in the system A004's SPECIALTY CodeSystem names as its url.
    expect(criteria.parameter[1]!.valueCoding.system).toBe(`${demo.sandbox.ersBaseUrl}/STU3/v1/CodeSystem/SPECIALTY`);
    // …and it is exactly what e-RS received (the sandbox's record of the body), and accepted.
    const a010 = (await demo.control.requests()).filter((request) => request.operation === 'A010');
    expect(a010).toHaveLength(1);
    expect(a010[0]!.status).toBe(200);
    expect(a010[0]!.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1]).toMatch(/^application\/fhir\+json/);
    expect(a010[0]!.bodySha256).toBe(createHash('sha256').update(sent[0]!.body).digest('hex'));

    const services = await page.locator('#screen table.app-services tbody tr').allInnerTexts();
    expect(services).toHaveLength(1);
    expect(services[0]).toContain('Cardiology - Rapid Access Chest Pain Clinic');
    expect(services[0]).toContain('Sandbox General Hospital (R0101)');
    expect(services[0]).toContain('Cardiology');
    expect(services[0]).not.toContain('CARDIOLOGY');
    await accessible('services');
    // The form and its results: taller than the viewport, so the screen's column alone.
    await screenshot(page, 'services', '#screen');
    expect(tab.errors()).toEqual([]);
  });

  it('offers a role only the screens e-RS lets it use, and says why', async () => {
    await page.goto(demo.url);
    await onScreen('Insert your smartcard');
    await insertCard('referrer-two-roles');
    await onScreen('Choose your role');
    await demo.control.clearRequests();
    await chooseRole('Referring admin at THE DENSHAM SURGERY (A81001)');
    await onScreen('Nothing to show for this role');
    const reason = await page.locator('#screen .app-no-screen-reason').innerText();
    expect(reason).toContain('neither the referrals worklist');
    expect(reason).toContain('nor the service search');
    await accessible('no-screen');
    // Nothing was asked of e-RS that it would refuse this role: only the role's A002.
    expect((await ersCalls()).filter((line) => !line.startsWith('A002 '))).toEqual([]);
    await page.getByRole('button', { name: 'Choose another role' }).click();
    await onScreen('Switch role');
    await chooseRole('Referring clinician at THE DENSHAM SURGERY (A81001)', 'Switch to this role');
    await onScreen('Find a service');

    // A service provider admin has the worklist but may not open a referral (A005) or call A004.
    await page.getByRole('button', { name: 'Log out' }).click();
    await onScreen('Insert your smartcard');
    await insertCard('two-organisations');
    await onScreen('Choose your role');
    await demo.control.clearRequests();
    await chooseRole('Service provider admin at SANDBOX ACUTE HOSPITALS NHS TRUST (R01)');
    await onScreen('Referrals worklist');
    await newestCall('A008');
    expect(await page.locator('#screen .app-role-limit').innerText()).toContain('is for service provider clinicians');
    expect(await page.locator('#screen table.app-worklist a').count()).toBe(0);
    expect(await page.locator('#screen table.app-worklist').innerText()).toContain('Cardiology');
    expect((await ersCalls()).filter((line) => !/^A00[23] /.test(line)).map((line) => line.split(' ')[0])).toEqual(['A008']);

    // A service provider clinician admin reads the worklist on behalf of a clinician, and no more.
    await page.getByRole('button', { name: 'Log out' }).click();
    await onScreen('Insert your smartcard');
    await insertCard('provider-three-roles');
    await onScreen('Choose your role');
    expect(await page.locator('#screen').innerText()).toContain('SERVICE_PROVIDER_CLINICIAN_ADMIN. Worklist only');
    await demo.control.clearRequests();
    await chooseRole('Service provider clinician admin at SANDBOX ACUTE HOSPITALS NHS TRUST (R01)');
    await onScreen('Referrals worklist');
    await newestCall('A008');
    expect(await page.locator('#screen table.app-worklist a').count()).toBe(0);
    expect((await ersCalls()).filter((line) => !/^A00[23] /.test(line)).map((line) => line.split(' ')[0])).toEqual(['A008']);
    expect(tab.errors()).toEqual([]);
  });

  it('carries on after a reload while signed in', async () => {
    await signIn('provider-three-roles', 'Service provider clinician at SANDBOX ACUTE HOSPITALS NHS TRUST (R01)');
    await onScreen('Referrals worklist');
    await page.reload();
    await onScreen('Referrals worklist');
    expect(await page.locator('#session-panel').innerText()).toContain('Rajesh Patel');
    expect(tab.errors()).toEqual([]);
  });

  it('is usable with the keyboard alone, with a visible focus', async () => {
    /** What has focus, and whether it is drawn (NHS.UK draws focus with a box-shadow or outline). */
    const focused = async (): Promise<{ text: string; visible: boolean }> =>
      page.evaluate<{ text: string; visible: boolean }>(`(() => {
        const element = document.activeElement;
        const style = getComputedStyle(element);
        return { text: element.textContent.trim(), visible: style.boxShadow !== 'none' || style.outlineStyle !== 'none' };
      })()`);
    await page.goto(demo.url);
    await onScreen('Insert your smartcard');
    // Focus is on the heading: Tab reaches the first radio (none is chosen), arrows choose, Tab reaches the button.
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ text: 'Insert card and sign in', visible: true });
    await page.keyboard.press('Enter');
    await onScreen('Choose your role');
    expect(await page.locator('#session-panel').innerText()).toContain('provider-three-roles');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ text: 'Continue', visible: true });
    await page.keyboard.press('Enter');
    await onScreen('Referrals worklist');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ text: 'Open referral 0000 0007 0000', visible: true });
    await page.keyboard.press('Enter');
    await onScreen('Referral 0000 0007 0000');
    expect(tab.errors()).toEqual([]);
  });

  it('switches role (a new e-RS session key) and logs out', async () => {
    await signIn('provider-three-roles', 'Service provider clinician at SANDBOX ACUTE HOSPITALS NHS TRUST (R01)');
    await onScreen('Referrals worklist');
    const first = await newestCall('A008');

    await page.getByRole('button', { name: 'Switch role' }).click();
    await onScreen('Switch role');
    await accessible('switch-role');
    await screenshot(page, 'switch-role');
    await chooseRole('Service provider admin at SANDBOX ACUTE HOSPITALS NHS TRUST (R01)', 'Switch to this role');
    await onScreen('Referrals worklist');
    expect(await page.locator('#session-panel').innerText()).toContain('Service provider admin at SANDBOX ACUTE HOSPITALS NHS TRUST (R01)');
    const second = await newestCall('A008', first.key);
    expect(second.key).not.toBe(first.key);
    expect(second.key).toBe(`••••${(await liveKey()).slice(-4)}`);

    await page.getByRole('button', { name: 'Log out' }).click();
    await onScreen('Insert your smartcard');
    expect(await page.locator('#screen .app-notice').innerText()).toContain('You have logged out');
    const session = await page.request.get(`${demo.url}/api/session`, { headers: { 'X-CSRF': '1' } });
    expect(session.status()).toBe(401);
    expect(((await session.json()) as { code: string }).code).toBe('no-session');
    // The gateway closes the e-RS session (A003) once nothing is in flight; the panel shows it.
    await newestCall('A003');
    // Signed out, a reload asks nothing of the gateway's session endpoint.
    const before = tab.apiCalls().length;
    await page.reload();
    await onScreen('Insert your smartcard');
    expect(tab.apiCalls().slice(before)).toEqual([]);
    expect(tab.errors()).toEqual([]);
  });

  it('shows that the session has ended once the card is removed', async () => {
    await signIn('referrer-two-roles', 'Referring clinician at THE DENSHAM SURGERY (A81001)');
    await onScreen('Find a service');
    const cleanSoFar = tab.errors();

    await page.getByRole('button', { name: 'Remove card' }).click();
    await page.locator('#session-panel .app-card-removed').waitFor();
    expect(await page.locator('#session-panel .app-card-removed').innerText()).toContain('e-RS ended 1 session');
    expect((await demo.control.sessions()).filter((session) => session.state === 'active')).toHaveLength(0);

    // The next call: e-RS answers 403 (session not valid), the gateway's A002 check finds the session dead and answers 401.
    await page.getByLabel('Patient’s NHS number').fill('9000000009');
    await page.getByLabel('Specialty').selectOption({ label: 'Cardiology' });
    await page.getByLabel('Clinic type').selectOption({ label: 'Rapid Access Chest Pain' });
    await page.getByRole('button', { name: 'Search services' }).click();
    await onScreen('Your session has ended');
    const screen = await page.locator('#screen').innerText();
    expect(screen).toContain('Your session has ended — insert your card again');
    expect(await page.locator('#screen .app-problem-title').innerText()).not.toBe('');
    expect(screen).toMatch(/Correlation ID\s+\S+/);
    await accessible('session-ended');
    await screenshot(page, 'session-ended');
    const session = await page.request.get(`${demo.url}/api/session`, { headers: { 'X-CSRF': '1' } });
    expect(session.status()).toBe(401);

    await page.getByRole('button', { name: 'Insert your card again' }).click();
    await onScreen('Insert your smartcard');
    // The only console errors: Chromium's line for the 401 that told the page the session had ended.
    expect(cleanSoFar).toEqual([]);
    const errors = tab.errors();
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error).toMatch(failedLoad(401, /\/api\/(ers\/STU3\/v1\/HealthcareService\/\$ers\.searchHealthcareServicesForPatient|session)/));
  });

  it.each([
    ['invalid-card', 'invalid-token', 401],
    ['no-roles', 'no-roles', 403],
  ])('shows the gateway problem for the %s card', async (label, code, status) => {
    const expected = await problemFor(card(label).token);
    expect(expected.code).toBe(code);
    await page.goto(demo.url);
    await onScreen('Insert your smartcard');
    await insertCard(label);
    const summary = page.locator(`#screen .nhsuk-error-summary[data-problem-code="${code}"]`);
    await summary.waitFor();
    expect(await summary.locator('h2').innerText()).toBe(expected.title);
    expect(await summary.locator('.app-problem-detail').innerText()).toBe(expected.detail);
    expect(await summary.locator('.app-problem-facts').innerText()).toMatch(/correlation ID \S+/);
    expect(await page.evaluate(`document.activeElement?.classList.contains('nhsuk-error-summary')`)).toBe(true);
    expect(await page.title()).toBe('Error: Insert your smartcard – e-RS session gateway demo');
    // Never a stack trace or raw JSON.
    expect(await page.locator('#screen').innerText()).not.toMatch(/[{}]|at \w+ \(/);
    // The card the user chose stays chosen; nothing else is.
    expect(await checkedRadios()).toBe(1);
    await accessible(label);
    await screenshot(page, label);
    // The one console error is Chromium's line for the refused sign-in.
    expect(tab.errors()).toHaveLength(1);
    expect(tab.errors()[0]).toMatch(failedLoad(status, /\/api\/session/));
  });
});
