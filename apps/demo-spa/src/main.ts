/**
 * The demo SPA: walks the gateway's whole flow in a real browser. Insert a test smartcard at the
 * sandbox's simulated Identity Agent, sign in at the gateway, choose a role, use e-RS through the
 * gateway (worklist, referral, downloads or specialties and service search), switch role, log out,
 * or remove the card and watch the gateway notice. Every screen is built with h() and moves focus
 * to its heading.
 */
import { actionLink, backLink, button, errorSummary, insetText, radios, select, summaryList, table, warningCallout } from './components';
import { startCountdowns } from './countdown';
import { type Child, byId, h, hidden, replaceChildren } from './dom';
import * as fhir from './fhir';
import { type Permission, type Problem, ProblemError, type SessionView, gateway } from './gateway';
import { type CardState, ersPanel, fullName, functionName, roleText, sessionPanel } from './panels';
import { type Card, type RecordedRequest, Sandbox, loadConfig } from './sandbox';

const SERVICE = 'e-RS session gateway demo';
const PANEL_CALLS = 6;
const WORKLISTS = [
  { value: 'REFERRALS_FOR_REVIEW', text: 'Referrals for review' },
  { value: 'APPOINTMENT_SLOT_ISSUES', text: 'Appointment slot issues' },
] as const;

const isProvider = (role: Permission | null): boolean => role?.businessFunction.startsWith('SERVICE_PROVIDER_') === true;

const date = (iso: string): string => {
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? iso : new Date(parsed).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
};

const ubrnText = (ubrn: string): string => ubrn.replace(/^(\d{4})(\d{4})(\d{4})$/, '$1 $2 $3');

const bytes = (size: number | null): string =>
  size === null ? 'unknown' : size < 1024 ? `${size} bytes` : size < 1024 * 1024 ? `${(size / 1024).toFixed(1)} KB` : `${(size / 1024 / 1024).toFixed(1)} MB`;

const asProblem = (error: unknown): Problem =>
  error instanceof ProblemError
    ? error.problem
    : { title: 'Something went wrong in the demo', detail: error instanceof Error ? error.message : 'Unknown error.', status: null, code: null, correlationId: null };

/** A file name from Content-Disposition (RFC 6266: filename* wins over filename). */
function fileName(disposition: string | null, fallback: string): string {
  if (disposition === null) return fallback;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (extended?.[1] !== undefined) {
    try {
      return decodeURIComponent(extended[1]);
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(disposition);
  return plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2] ?? fallback;
}

/** Hands a response body to the browser as a file download (the cookie cannot ride a plain link: every /api call needs X-CSRF). */
async function saveAs(response: Response, fallback: string): Promise<{ name: string; size: number }> {
  const name = fileName(response.headers.get('content-disposition'), fallback);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: the download starts asynchronously from the object URL.
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}

type Screen =
  | { name: 'insert-card'; problem?: Problem; notice?: string }
  | { name: 'choose-role'; problem?: Problem }
  | { name: 'worklist'; listType: string; rows: fhir.ReferralSummary[] | null; problem?: Problem }
  | { name: 'referral'; ubrn: string; referral: fhir.Referral | null; problem?: Problem; notice?: string }
  | { name: 'services'; specialties: fhir.Specialty[]; specialty: string | null; services: fhir.Service[] | null; problem?: Problem }
  | { name: 'session-ended'; problem: Problem }
  | { name: 'broken'; problem: Problem };

class App {
  private sandbox: Sandbox | null = null;
  private cards: Card[] = [];
  private card: (CardState & { token: string | null }) | null = null;
  private session: SessionView | null = null;
  private requests: RecordedRequest[] | null = [];
  private busy = false;
  /** The card last chosen on the insert-card screen, kept checked when a problem re-shows it. */
  private chosenCard: string | null = null;
  /** The screen a problem is shown on (set before each call, so a failure re-shows it). */
  private current: Screen = { name: 'insert-card' };
  /** Bumped by every action, so an answer that arrives after a newer action is dropped. */
  private generation = 0;

  async start(): Promise<void> {
    startCountdowns();
    try {
      this.sandbox = new Sandbox((await loadConfig()).sandboxUrl);
    } catch (error) {
      this.show({ name: 'broken', problem: asProblem(error) });
      return;
    }
    // A reload keeps the browser-session cookie: carry on where the user was.
    try {
      this.session = await gateway.session();
      const label = sessionStorage.getItem('card-label');
      this.card = label === null ? null : { label, token: null, removed: null };
    } catch {
      this.session = null;
    }
    await this.act(async () => {
      if (this.session === null) await this.showInsertCard();
      else if (this.session.role === null) this.go({ name: 'choose-role' });
      else await this.showRoleHome();
    });
  }

  // ---- rendering -------------------------------------------------------------------------

  private show(screen: Screen, focus: 'heading' | 'problem' = 'heading'): void {
    const { title, body } = this.render(screen);
    const heading = h('h1', { tabindex: -1 }, title);
    const problem = 'problem' in screen && screen.problem !== undefined && screen.name !== 'session-ended' && screen.name !== 'broken' ? errorSummary(screen.problem) : null;
    const root = byId('screen');
    root.dataset.screen = screen.name;
    replaceChildren(root, heading, problem, body);
    document.title = `${screen.problem === undefined ? '' : 'Error: '}${title} – ${SERVICE}`;
    this.renderSession();
    (focus === 'problem' && problem !== null ? problem : heading).focus();
  }

  private renderSession(): void {
    replaceChildren(
      byId('session-panel'),
      h(
        'section',
        { 'aria-labelledby': 'session-panel-heading', class: 'app-panel' },
        sessionPanel(this.session, this.card, {
          switchRole: () => this.show({ name: 'choose-role' }),
          signOut: () => void this.act(() => this.signOut()),
          removeCard: () => void this.act(() => this.removeCard()),
        }),
      ),
    );
  }

  private renderErsPanel(): void {
    const refreshHadFocus = document.activeElement?.classList.contains('app-refresh') === true;
    replaceChildren(
      byId('ers-panel'),
      h(
        'section',
        { 'aria-labelledby': 'ers-panel-heading', class: 'app-panel' },
        ersPanel(this.requests, this.sandbox?.url ?? '', () => void this.refreshErsPanel()),
      ),
    );
    if (refreshHadFocus) byId('ers-panel').querySelector<HTMLElement>('.app-refresh')?.focus();
  }

  private async refreshErsPanel(generation = this.generation): Promise<void> {
    if (this.sandbox === null) return;
    let requests: RecordedRequest[] | null;
    try {
      requests = await this.sandbox.requests(PANEL_CALLS);
    } catch {
      requests = null;
    }
    if (generation !== this.generation) return;
    this.requests = requests;
    this.renderErsPanel();
  }

  private render(screen: Screen): { title: string; body: Child[] } {
    switch (screen.name) {
      case 'insert-card':
        return this.insertCardScreen(screen);
      case 'choose-role':
        return this.chooseRoleScreen();
      case 'worklist':
        return this.worklistScreen(screen);
      case 'referral':
        return this.referralScreen(screen);
      case 'services':
        return this.servicesScreen(screen);
      case 'session-ended':
        return {
          title: 'Your session has ended',
          body: [
            warningCallout(
              'Insert your card again',
              h('p', { class: 'nhsuk-card__description' }, 'Your session has ended — insert your card again to carry on.'),
            ),
            summaryList(
              [
                ['What the gateway said', h('span', { class: 'app-problem-title' }, screen.problem.title)],
                ['Details', h('span', { class: 'app-problem-detail' }, screen.problem.detail)],
                ['Correlation ID', h('code', { class: 'app-mono' }, screen.problem.correlationId ?? 'none')],
              ],
              'app-ended-problem',
            ),
            button('Insert your card again', { onclick: () => void this.act(() => this.showInsertCard()) }),
          ],
        };
      case 'broken':
        return { title: 'The demo cannot start', body: [errorSummary(screen.problem)] };
    }
  }

  private insertCardScreen(screen: Extract<Screen, { name: 'insert-card' }>): { title: string; body: Child[] } {
    const cardHint = (card: Card): string =>
      !card.valid
        ? 'Invalid card: e-RS refuses its token'
        : card.permissions.length === 0
          ? 'No e-RS roles'
          : card.permissions.map((permission) => `${functionName(permission.businessFunction)} (${permission.orgIdentifier})`).join(', ');
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          const label = new FormData(form).get('card');
          if (typeof label !== 'string') {
            this.show({ name: 'insert-card', problem: { title: 'Choose a smartcard', detail: 'Select one of the test smartcards to insert.', status: null, code: null, correlationId: null } }, 'problem');
            return;
          }
          void this.act(() => this.signIn(label));
        },
      },
      radios(
        'card',
        'Test smartcards',
        this.cards.map((card, index) => ({
          value: card.label,
          label: `${fullName(card.user)} (${card.label})`,
          hint: cardHint(card),
          checked: this.chosenCard === null ? index === 0 : card.label === this.chosenCard,
        })),
      ),
      button('Insert card and sign in', { type: 'submit' }),
    );
    return {
      title: 'Insert your smartcard',
      body: [
        screen.notice === undefined ? null : insetText(h('p', { class: 'app-notice' }, screen.notice)),
        h(
          'p',
          {},
          'Choose a test smartcard. The sandbox’s simulated Identity Agent reads it and hands this page its SSO token, which the page sends to the gateway once to sign in.',
        ),
        this.cards.length === 0 ? h('p', {}, 'The sandbox offered no cards.') : form,
      ],
    };
  }

  private chooseRoleScreen(): { title: string; body: Child[] } {
    const session = this.session;
    if (session === null) return { title: 'Choose your role', body: [h('p', {}, 'You are not signed in.')] };
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          const value = new FormData(form).get('role');
          const role = session.permissions.find((permission) => `${permission.businessFunction}@${permission.orgIdentifier}` === value);
          if (role !== undefined) void this.act(() => this.chooseRole(role));
        },
      },
      radios(
        'role',
        `Roles for ${fullName(session.user)}`,
        session.permissions.map((permission, index) => ({
          value: `${permission.businessFunction}@${permission.orgIdentifier}`,
          label: roleText(permission),
          hint: `${permission.businessFunction}${
            session.role?.businessFunction === permission.businessFunction && session.role.orgIdentifier === permission.orgIdentifier ? ' (your current role)' : ''
          }`,
          checked: session.role === null ? index === 0 : session.role.businessFunction === permission.businessFunction && session.role.orgIdentifier === permission.orgIdentifier,
        })),
      ),
      button(session.role === null ? 'Continue' : 'Switch to this role', { type: 'submit' }),
    );
    return {
      title: session.role === null ? 'Choose your role' : 'Switch role',
      body: [
        session.role === null
          ? h('p', {}, 'e-RS knows you in these roles. The one you choose decides what you can see and do.')
          : h('p', {}, 'Switching role ends your e-RS session and opens a new one with the same card: e-RS gets a new session key.'),
        form,
      ],
    };
  }

  private worklistScreen(screen: Extract<Screen, { name: 'worklist' }>): { title: string; body: Child[] } {
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          const listType = new FormData(form).get('listType');
          void this.act(() => this.showWorklist(typeof listType === 'string' ? listType : WORKLISTS[0].value));
        },
      },
      select(
        'listType',
        'Worklist',
        WORKLISTS.map((list) => ({ ...list, selected: list.value === screen.listType })),
      ),
      button('Show worklist', { type: 'submit', variant: 'secondary' }),
    );
    const listName = WORKLISTS.find((list) => list.value === screen.listType)?.text ?? screen.listType;
    const rows = screen.rows;
    return {
      title: 'Referrals worklist',
      body: [
        h('p', {}, `Referrals waiting at ${this.session?.role?.orgName.trim() ?? 'your organisation'} (e-RS call A008).`),
        form,
        rows === null
          ? null
          : rows.length === 0
            ? h('p', { class: 'app-empty' }, `There are no referrals on “${listName}”.`)
            : table(
                `${listName}: ${rows.length} referral${rows.length === 1 ? '' : 's'}`,
                ['UBRN', 'Patient', 'NHS number', 'Priority', 'Specialty', 'Received'],
                rows.map((row) => [
                  actionLink([hidden('Open referral '), h('span', { class: 'app-ubrn' }, ubrnText(row.ubrn))], () => void this.act(() => this.showReferral(row.ubrn))),
                  row.patient,
                  row.nhsNumber,
                  row.priority,
                  row.specialty,
                  date(row.authoredOn),
                ]),
                'app-table-compact app-worklist',
              ),
      ],
    };
  }

  private referralScreen(screen: Extract<Screen, { name: 'referral' }>): { title: string; body: Child[] } {
    const referral = screen.referral;
    const back = backLink('Back to worklist', () => void this.act(() => this.showWorklist(WORKLISTS[0].value)));
    if (referral === null) return { title: `Referral ${ubrnText(screen.ubrn)}`, body: [back] };
    return {
      title: `Referral ${ubrnText(referral.ubrn)}`,
      body: [
        back,
        screen.notice === undefined ? null : insetText(h('p', { role: 'status', class: 'app-notice' }, screen.notice)),
        summaryList([
          ['Patient', referral.patient],
          ['NHS number', referral.nhsNumber],
          ['Priority', referral.priority],
          ['Specialty', referral.specialty],
          ['Clinic type', referral.clinicType],
          ['Received', date(referral.authoredOn)],
          ['Referrer', `${referral.referrer} at ${referral.referrerOrg}`],
          ['Version', referral.version],
        ]),
        h('h2', {}, 'Attachments'),
        referral.attachments.length === 0
          ? h('p', {}, 'This referral has no attachments.')
          : table(
              `${referral.attachments.length} attachment${referral.attachments.length === 1 ? '' : 's'} (e-RS call A006)`,
              ['File', 'Description', 'Type', 'Size', 'Action'],
              referral.attachments.map((attachment) => [
                attachment.title,
                attachment.description,
                attachment.contentType,
                bytes(attachment.size),
                button(['Download', hidden(` ${attachment.title}`)], {
                  variant: 'secondary',
                  small: true,
                  onclick: () => void this.act(() => this.download(referral, attachment)),
                }),
              ]),
              'app-table-compact app-attachments',
            ),
        h('h2', {}, 'Clinical referral information'),
        h('p', {}, 'e-RS puts the referral’s clinical information together as a PDF (e-RS call A007).'),
        button('Download clinical information (PDF)', { variant: 'secondary', onclick: () => void this.act(() => this.downloadCri(referral)) }),
      ],
    };
  }

  private servicesScreen(screen: Extract<Screen, { name: 'services' }>): { title: string; body: Child[] } {
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          const specialty = new FormData(form).get('specialty');
          void this.act(() => this.searchServices(screen.specialties, typeof specialty === 'string' && specialty !== '' ? specialty : null));
        },
      },
      select('specialty', 'Specialty', [
        { value: '', text: 'Any specialty', selected: screen.specialty === null },
        ...screen.specialties.map((specialty) => ({ value: specialty.code, text: specialty.display, selected: specialty.code === screen.specialty })),
      ]),
      button('Search services', { type: 'submit' }),
    );
    const services = screen.services;
    return {
      title: 'Find a service',
      body: [
        h('p', {}, `e-RS offers ${screen.specialties.length} specialties (e-RS call A004). Search the services a patient can be referred to (A010).`),
        form,
        services === null
          ? null
          : services.length === 0
            ? h('p', { class: 'app-empty' }, 'No services match.')
            : table(
                `${services.length} service${services.length === 1 ? '' : 's'}`,
                ['Service', 'ID', 'Provider', 'Specialty'],
                services.map((service) => [service.name, service.id, service.providerOrg, service.specialty]),
                'app-table-compact app-services',
              ),
      ],
    };
  }

  // ---- actions ---------------------------------------------------------------------------

  /**
   * Runs one user action: one at a time, the e-RS panel refreshed afterwards, and a session the
   * gateway says has ended (401 session-expired or no-session) always leads to the same screen.
   */
  private async act(action: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    byId('screen').setAttribute('aria-busy', 'true');
    try {
      await action();
    } catch (error) {
      const problem = asProblem(error);
      if (problem.status === 401 && (problem.code === 'session-expired' || problem.code === 'no-session')) {
        this.session = null;
        this.show({ name: 'session-ended', problem });
      } else {
        this.showProblem(problem);
      }
    } finally {
      this.busy = false;
      byId('screen').removeAttribute('aria-busy');
    }
    // After the action, not part of it: the user may already act again while these load.
    const generation = ++this.generation;
    await Promise.all([this.refreshSession(generation), this.refreshErsPanel(generation)]);
  }


  /** Re-shows the current screen with the problem, focus on the error summary. */
  private showProblem(problem: Problem): void {
    this.current = { ...this.current, problem };
    this.show(this.current, 'problem');
  }

  private go(screen: Screen): void {
    this.current = screen;
    this.show(screen);
  }

  /**
   * Proxied calls slide the idle timeout: read the session again so the countdown is right.
   * A failure is left for the next action to show (it gets the same answer from the gateway).
   */
  private async refreshSession(generation: number): Promise<void> {
    if (this.session === null) return;
    try {
      const session = await gateway.session();
      if (generation !== this.generation || this.session === null) return;
      this.session = session;
      // Only the times change: update the timers in place so focus in the panel is not lost.
      for (const timer of byId('session-panel').querySelectorAll<HTMLElement>('[data-expiry]')) {
        timer.dataset.expiresAt = timer.dataset.expiry === 'idle' ? session.idleExpiresAt : session.absoluteExpiresAt;
      }
    } catch {
      // shown by the next action
    }
  }

  private async showInsertCard(notice?: string): Promise<void> {
    if (this.sandbox === null) return;
    this.cards = await this.sandbox.cards();
    this.go({ name: 'insert-card', ...(notice === undefined ? {} : { notice }) });
  }

  private async signIn(label: string): Promise<void> {
    if (this.sandbox === null) return;
    this.chosenCard = label;
    const inserted = await this.sandbox.insert(label);
    this.card = { label: inserted.label, token: inserted.token, removed: null };
    sessionStorage.setItem('card-label', inserted.label);
    this.current = { name: 'insert-card' };
    this.session = await gateway.signIn(inserted.token);
    this.go({ name: 'choose-role' });
  }

  private async chooseRole(role: Permission): Promise<void> {
    this.current = { name: 'choose-role' };
    this.session = await gateway.chooseRole(role);
    await this.showRoleHome();
  }

  private async showRoleHome(): Promise<void> {
    if (isProvider(this.session?.role ?? null)) await this.showWorklist(WORKLISTS[0].value);
    else await this.showServices();
  }

  private async showWorklist(listType: string): Promise<void> {
    this.current = { name: 'worklist', listType, rows: null };
    const bundle = await gateway.ersJson('POST', 'STU3/v1/ReferralRequest/$ers.fetchworklist', fhir.worklistRequest(listType));
    this.go({ name: 'worklist', listType, rows: fhir.worklist(bundle) });
  }

  private async showReferral(ubrn: string): Promise<void> {
    const resource = await gateway.ersJson('GET', `STU3/v1/ReferralRequest/${encodeURIComponent(ubrn)}`);
    this.go({ name: 'referral', ubrn, referral: fhir.referral(resource) });
  }

  private async download(referral: fhir.Referral, attachment: fhir.Attachment): Promise<void> {
    const response = await gateway.ers('GET', `STU3/v1/Binary/${encodeURIComponent(attachment.id)}`, undefined, '*/*');
    const saved = await saveAs(response, attachment.title);
    this.go({ name: 'referral', ubrn: referral.ubrn, referral, notice: `Downloaded ${saved.name} (${bytes(saved.size)}).` });
  }

  private async downloadCri(referral: fhir.Referral): Promise<void> {
    const response = await gateway.ers('POST', `STU3/v1/ReferralRequest/${encodeURIComponent(referral.ubrn)}/$ers.generateCRI`, undefined, 'application/pdf');
    const saved = await saveAs(response, `clinical-information-${referral.ubrn}.pdf`);
    this.go({ name: 'referral', ubrn: referral.ubrn, referral, notice: `Downloaded ${saved.name} (${bytes(saved.size)}).` });
  }

  private async showServices(): Promise<void> {
    this.current = { name: 'services', specialties: [], specialty: null, services: null };
    const codeSystem = await gateway.ersJson('GET', 'STU3/v1/CodeSystem/SPECIALTY');
    this.go({ name: 'services', specialties: fhir.specialties(codeSystem), specialty: null, services: null });
  }

  private async searchServices(specialties: fhir.Specialty[], specialty: string | null): Promise<void> {
    this.current = { name: 'services', specialties, specialty, services: null };
    const bundle = await gateway.ersJson('POST', 'STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', fhir.serviceSearchRequest(specialty));
    this.go({ name: 'services', specialties, specialty, services: fhir.services(bundle) });
  }

  private async signOut(): Promise<void> {
    await gateway.signOut();
    this.session = null;
    this.card = null;
    sessionStorage.removeItem('card-label');
    await this.showInsertCard('You have logged out. The gateway has ended your e-RS session.');
    // The gateway sends A003 once nothing is in flight, a moment later: show it arriving.
    window.setTimeout(() => void this.refreshErsPanel(), 800);
  }

  private async removeCard(): Promise<void> {
    if (this.sandbox === null || this.card === null) return;
    const removed = await this.sandbox.remove(this.card.token === null ? { label: this.card.label } : { token: this.card.token });
    this.card = { ...this.card, removed: { endedSessions: removed.endedSessions } };
    this.renderSession();
    // The button just pressed is gone: focus the news instead of leaving it on the page body.
    byId('session-panel').querySelector<HTMLElement>('.app-card-removed')?.focus();
  }
}

void new App().start();
