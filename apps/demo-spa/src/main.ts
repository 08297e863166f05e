/**
 * The demo SPA: walks the gateway's whole flow in a real browser. Insert a test smartcard at the
 * sandbox's simulated Identity Agent, sign in at the gateway, choose a role, use e-RS through the
 * gateway (worklist and referral, or service search, as the role allows), switch role, log out,
 * or remove the card and watch the gateway notice. Every screen is built with h() and moves focus
 * to its heading.
 */
import {
  type FieldError,
  actionLink,
  backLink,
  button,
  errorSummary,
  formErrorSummary,
  insetText,
  radios,
  select,
  summaryList,
  table,
  textInput,
  warningCallout,
} from './components';
import { startCountdowns } from './countdown';
import { type Child, byId, h, hidden, replaceChildren } from './dom';
import { dateText, dateTimeText, nhsNumberText, priorityText, PRIORITY_CODES, ubrnText } from './display';
import { bytes, saveAs } from './downloads';
import * as fhir from './fhir';
import { type Permission, type Problem, ProblemError, type SessionView, gateway } from './gateway';
import { type CardState, ersPanel, fullName, functionName, roleText, sessionPanel } from './panels';
import { type CodeList, ReferenceData, fallbackText } from './reference-data';
import { abilities, offers } from './roles';
import { type Card, type RecordedRequest, Sandbox, loadConfig } from './sandbox';
import { EMPTY_FORM, FIELD, type SearchForm, checkForm, clinicTypesFor, readForm } from './service-search';

const SERVICE = 'e-RS session gateway demo';
const PANEL_CALLS = 6;
const WORKLISTS = [
  { value: 'REFERRALS_FOR_REVIEW', text: 'Referrals for review' },
  { value: 'APPOINTMENT_SLOT_ISSUES', text: 'Appointment slot issues' },
] as const;
/**
 * Not a secret: only that this browser signed in. Without it a signed-out first load sends no
 * GET /api/session, whose 401 the browser would log as a console error.
 */
const SIGNED_IN_HINT = 'ers-demo-signed-in';

const asProblem = (error: unknown): Problem =>
  error instanceof ProblemError
    ? error.problem
    : { title: 'Something went wrong in the demo', detail: error instanceof Error ? error.message : 'Unknown error.', status: null, code: null, correlationId: null };

/** A worklist row with its codes already named. */
interface WorklistView {
  row: fhir.WorklistRow;
  specialty: string;
}

interface ReferralView {
  details: fhir.ReferralDetails;
  specialty: string;
  clinicType: string;
}

interface ServiceView {
  service: fhir.Service;
  specialty: string;
}

type Screen =
  | { name: 'insert-card'; problem?: Problem; errors?: FieldError[]; notice?: string }
  | { name: 'choose-role'; problem?: Problem; errors?: FieldError[] }
  | { name: 'no-screen'; problem?: Problem; errors?: FieldError[] }
  | { name: 'worklist'; listType: string; rows: WorklistView[] | null; problem?: Problem; errors?: FieldError[] }
  | { name: 'referral'; ubrn: string; row: WorklistView | null; referral: ReferralView | null; problem?: Problem; errors?: FieldError[]; notice?: string }
  | {
      name: 'services';
      form: SearchForm;
      specialties: CodeList | null;
      clinicTypes: CodeList | null;
      services: ServiceView[] | null;
      problem?: Problem;
      errors?: FieldError[];
    }
  | { name: 'session-ended'; problem: Problem; errors?: FieldError[] }
  | { name: 'broken'; problem: Problem; errors?: FieldError[] };

const CARD_FIELD = 'card-choice';
const ROLE_FIELD = 'role-choice';

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
  /** A004 code systems, fetched once per page load. */
  private readonly referenceData = new ReferenceData((path) => gateway.ersJson('GET', path));

  async start(): Promise<void> {
    startCountdowns();
    try {
      this.sandbox = new Sandbox((await loadConfig()).sandboxUrl);
    } catch (error) {
      this.show({ name: 'broken', problem: asProblem(error) });
      return;
    }
    // A reload keeps the browser-session cookie: carry on where the user was.
    if (localStorage.getItem(SIGNED_IN_HINT) !== null) {
      try {
        this.session = await gateway.session();
        const label = sessionStorage.getItem('card-label');
        this.card = label === null ? null : { label, token: null, removed: null };
      } catch {
        this.session = null;
        localStorage.removeItem(SIGNED_IN_HINT);
      }
    }
    await this.act(async () => {
      if (this.session === null) await this.showInsertCard();
      else if (this.session.role === null) this.go({ name: 'choose-role' });
      else await this.showRoleHome();
    });
  }

  private get role(): Permission | null {
    return this.session?.role ?? null;
  }

  private get can(): ReturnType<typeof abilities> {
    return abilities(this.role?.businessFunction ?? '');
  }

  // ---- rendering -------------------------------------------------------------------------

  private show(screen: Screen, focus: 'heading' | 'problem' = 'heading'): void {
    const { title, body } = this.render(screen);
    const heading = h('h1', { tabindex: -1 }, title);
    const summary =
      screen.name === 'session-ended' || screen.name === 'broken'
        ? null
        : screen.errors !== undefined && screen.errors.length > 0
          ? formErrorSummary(screen.errors)
          : screen.problem !== undefined
            ? errorSummary(screen.problem)
            : null;
    const root = byId('screen');
    root.dataset.screen = screen.name;
    replaceChildren(root, heading, summary, body);
    document.title = `${summary === null && screen.name !== 'session-ended' && screen.name !== 'broken' ? '' : 'Error: '}${title} – ${SERVICE}`;
    this.renderSession();
    (focus === 'problem' && summary !== null ? summary : heading).focus();
  }

  private renderSession(): void {
    replaceChildren(
      byId('session-panel'),
      h(
        'section',
        { 'aria-labelledby': 'session-panel-heading', class: 'app-panel' },
        sessionPanel(this.session, this.card, {
          switchRole: () => this.go({ name: 'choose-role' }),
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
        return this.chooseRoleScreen(screen);
      case 'no-screen':
        return this.noScreen();
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
            this.go({ name: 'insert-card', errors: [{ field: CARD_FIELD, text: 'Select a test smartcard to insert' }] }, 'problem');
            return;
          }
          void this.act(() => this.signIn(label));
        },
      },
      radios(
        'card',
        'Test smartcards',
        this.cards.map((card) => ({
          value: card.label,
          label: `${fullName(card.user)} (${card.label})`,
          hint: cardHint(card),
          checked: card.label === this.chosenCard,
        })),
        { id: CARD_FIELD, error: screen.errors?.[0]?.text ?? null },
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

  private chooseRoleScreen(screen: Extract<Screen, { name: 'choose-role' }>): { title: string; body: Child[] } {
    const session = this.session;
    if (session === null) return { title: 'Choose your role', body: [h('p', {}, 'You are not signed in.')] };
    const isCurrent = (permission: Permission): boolean =>
      session.role?.businessFunction === permission.businessFunction && session.role.orgIdentifier === permission.orgIdentifier;
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          const value = new FormData(form).get('role');
          const role = session.permissions.find((permission) => `${permission.businessFunction}@${permission.orgIdentifier}` === value);
          if (role === undefined) {
            this.go({ name: 'choose-role', errors: [{ field: ROLE_FIELD, text: 'Select a role to continue' }] }, 'problem');
            return;
          }
          void this.act(() => this.chooseRole(role));
        },
      },
      radios(
        'role',
        `Roles for ${fullName(session.user)}`,
        session.permissions.map((permission) => ({
          value: `${permission.businessFunction}@${permission.orgIdentifier}`,
          label: roleText(permission),
          hint: `${permission.businessFunction}${isCurrent(permission) ? ' (your current role)' : ''}. ${offers(permission.businessFunction)}.`,
        })),
        { id: ROLE_FIELD, hint: 'Select one role, then continue.', error: screen.errors?.[0]?.text ?? null },
      ),
      button(session.role === null ? 'Continue' : 'Switch to this role', { type: 'submit', describedBy: `${ROLE_FIELD}-fieldset-hint` }),
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

  /** A role e-RS lets use neither the worklist nor the service search (REFERRING_ADMIN). */
  private noScreen(): { title: string; body: Child[] } {
    const role = this.role;
    const others = (this.session?.permissions.length ?? 0) > 1;
    return {
      title: 'Nothing to show for this role',
      body: [
        h(
          'p',
          { class: 'app-no-screen-reason' },
          `As ${role === null ? 'this role' : roleText(role)}, e-RS lets you use neither the referrals worklist (e-RS call A008: service provider clinicians and admins) nor the service search (A010: referring clinicians and referring clinician admins), so the demo offers no screen for it.`,
        ),
        others
          ? button('Choose another role', { onclick: () => this.go({ name: 'choose-role' }) })
          : h('p', {}, 'Your card has no other role: log out and insert another card.'),
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
    const canOpen = this.can.referrals;
    // e-RS's published List names patients by NHS number only: a name column only when it gives names.
    const named = rows?.some((view) => view.row.patientName !== null) === true;
    return {
      title: 'Referrals worklist',
      body: [
        h('p', {}, `Referrals waiting at ${this.role?.orgName.trim() ?? 'your organisation'} (e-RS call A008).`),
        canOpen
          ? null
          : insetText(
              h(
                'p',
                { class: 'app-role-limit' },
                `Opening a referral (e-RS calls A005 and A006) is for service provider clinicians: as ${functionName(this.role?.businessFunction ?? '')} you see the worklist only.`,
              ),
            ),
        form,
        rows === null
          ? null
          : rows.length === 0
            ? h('p', { class: 'app-empty' }, `There are no referrals on “${listName}”.`)
            : table(
                `${listName}: ${rows.length} referral${rows.length === 1 ? '' : 's'}`,
                ['UBRN', 'NHS number', ...(named ? ['Patient'] : []), 'Priority', 'Specialty', 'Pathway start'],
                rows.map((view) => [
                  canOpen
                    ? actionLink([hidden('Open referral '), h('span', { class: 'app-ubrn' }, ubrnText(view.row.ubrn))], () => void this.act(() => this.showReferral(view)))
                    : h('span', { class: 'app-ubrn' }, ubrnText(view.row.ubrn)),
                  h('span', { class: 'app-nhs-number' }, nhsNumberText(view.row.nhsNumber)),
                  ...(named ? [view.row.patientName ?? ''] : []),
                  priorityText(view.row.priority),
                  view.specialty,
                  dateText(view.row.pathwayStart),
                ]),
                'app-table-compact app-worklist',
              ),
      ],
    };
  }

  private referralScreen(screen: Extract<Screen, { name: 'referral' }>): { title: string; body: Child[] } {
    const back = backLink('Back to worklist', () => void this.act(() => this.showWorklist(WORKLISTS[0].value)));
    const referral = screen.referral;
    if (referral === null) return { title: `Referral ${ubrnText(screen.ubrn)}`, body: [back] };
    const { details } = referral;
    const row = screen.row?.row ?? null;
    const rows: [string, Child][] = [
      ['NHS number', h('span', { class: 'app-nhs-number' }, nhsNumberText(row?.nhsNumber || details.nhsNumber))],
      ['Patient', row?.patientName ?? ''],
      ['Priority', priorityText(row?.priority.code ? row.priority : details.priority)],
      ['Specialty', referral.specialty],
      ['Clinic type', referral.clinicType],
      ['Service', row?.service ?? ''],
      ['Appointment', details.appointment === null ? '' : `${dateTimeText(details.appointment.start)}${details.appointment.service === '' ? '' : `, ${details.appointment.service}`}`],
      ['Pathway start', row === null ? '' : dateText(row.pathwayStart)],
      ['Clinical information sent', details.clinicalInfoFirstSubmitted === '' ? '' : dateText(details.clinicalInfoFirstSubmitted)],
      ['Referrer', details.referrer === '' ? '' : `${details.referrer}${details.referrerOrg === '' ? '' : ` at ${details.referrerOrg}`}`],
      ['Version', details.version],
    ];
    return {
      title: `Referral ${ubrnText(screen.ubrn)}`,
      body: [
        back,
        screen.notice === undefined ? null : insetText(h('p', { role: 'status', class: 'app-notice' }, screen.notice)),
        summaryList(rows.filter(([, value]) => value !== ''), 'app-referral'),
        h('h2', {}, 'Attachments'),
        details.attachments.length === 0
          ? h('p', {}, 'This referral has no attachments.')
          : table(
              `${details.attachments.length} attachment${details.attachments.length === 1 ? '' : 's'} (e-RS call A006)`,
              ['File', 'Description', 'Type', 'Size', 'Action'],
              details.attachments.map((attachment) => [
                attachment.title,
                attachment.description,
                attachment.contentType,
                bytes(attachment.size),
                button(['Download', hidden(` ${attachment.title}`)], {
                  variant: 'secondary',
                  small: true,
                  onclick: () => void this.act(() => this.download(screen, attachment)),
                }),
              ]),
              'app-table-compact app-attachments',
            ),
        h('h2', {}, 'Clinical referral information'),
        h('p', {}, 'e-RS puts the referral’s clinical information together as a PDF (e-RS call A007).'),
        button('Download clinical information (PDF)', { variant: 'secondary', onclick: () => void this.act(() => this.downloadCri(screen)) }),
      ],
    };
  }

  private servicesScreen(screen: Extract<Screen, { name: 'services' }>): { title: string; body: Child[] } {
    const specialties = (screen.specialties?.concepts ?? []).filter((concept) => fhir.inEffect(concept));
    const clinicTypes = screen.clinicTypes?.concepts ?? [];
    const errorFor = (field: string): string | null => screen.errors?.find((error) => error.field === field)?.text ?? null;
    const clinicChoices = (specialty: string): { value: string; text: string; selected?: boolean }[] => [
      { value: '', text: specialty === '' ? 'Select a specialty first' : 'Select a clinic type' },
      ...clinicTypesFor(clinicTypes, specialty).map((concept) => ({ value: concept.code, text: concept.display, selected: concept.code === screen.form.clinicType })),
    ];
    const clinicTypeField = select('clinicType', 'Clinic type', clinicChoices(screen.form.specialty), { id: FIELD.clinicType, error: errorFor(FIELD.clinicType) });
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          void this.act(() => this.searchServices(screen, readForm(form)));
        },
      },
      textInput('nhsNumber', 'Patient’s NHS number', {
        id: FIELD.nhsNumber,
        hint: 'This is a 10 digit number, like 999 123 4567.',
        value: screen.form.nhsNumber,
        width: 10,
        inputmode: 'numeric',
        error: errorFor(FIELD.nhsNumber),
      }),
      this.can.onBehalfOfClinician
        ? textInput('referringClinician', 'Referring clinician (SDS user ID)', {
            id: FIELD.referringClinician,
            hint: 'As a referring clinician admin you search on behalf of a referring clinician at your organisation.',
            value: screen.form.referringClinician,
            width: 20,
            inputmode: 'numeric',
            error: errorFor(FIELD.referringClinician),
          })
        : null,
      select(
        'priority',
        'Priority',
        PRIORITY_CODES.map((code) => ({ value: code, text: priorityText({ code, display: '' }), selected: code === screen.form.priority })),
        { id: FIELD.priority },
      ),
      select(
        'specialty',
        'Specialty',
        [{ value: '', text: 'Select a specialty' }, ...specialties.map((concept) => ({ value: concept.code, text: concept.display, selected: concept.code === screen.form.specialty }))],
        {
          id: FIELD.specialty,
          error: errorFor(FIELD.specialty),
          // Clinic types belong to a specialty: offer only the chosen specialty's.
          onchange: (event: Event) => {
            const chosen = (event.target as HTMLSelectElement).value;
            const field = clinicTypeField.querySelector('select');
            field?.replaceChildren(...clinicChoices(chosen).map((choice) => h('option', { value: choice.value }, choice.text)));
          },
        },
      ),
      clinicTypeField,
      button('Search services', { type: 'submit' }),
    );
    const services = screen.services;
    return {
      title: 'Find a service',
      body: [
        h(
          'p',
          {},
          `Search the services a patient can be referred to (e-RS call A010): an appointment request, nearest first. Specialties and clinic types are e-RS’s reference data (A004).`,
        ),
        form,
        services === null
          ? null
          : services.length === 0
            ? h('p', { class: 'app-empty' }, 'No services match.')
            : table(
                `${services.length} service${services.length === 1 ? '' : 's'}`,
                ['Service', 'ID', 'Location', 'Specialty', 'Wait', 'Distance'],
                services.map(({ service, specialty }) => [
                  service.name,
                  service.id,
                  service.location === '' ? service.locationId : `${service.location}${service.locationId === '' ? '' : ` (${service.locationId})`}`,
                  specialty,
                  service.waitDays === null ? 'Not given' : `${service.waitDays} day${service.waitDays === 1 ? '' : 's'}`,
                  service.distanceMiles === null ? '' : `${service.distanceMiles} miles`,
                ]),
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
        localStorage.removeItem(SIGNED_IN_HINT);
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
    this.current = { ...this.current, problem, errors: [] };
    this.show(this.current, 'problem');
  }

  private go(screen: Screen, focus: 'heading' | 'problem' = 'heading'): void {
    this.current = screen;
    this.show(screen, focus);
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
    localStorage.setItem(SIGNED_IN_HINT, '1');
    this.go({ name: 'choose-role' });
  }

  private async chooseRole(role: Permission): Promise<void> {
    this.current = { name: 'choose-role' };
    this.session = await gateway.chooseRole(role);
    await this.showRoleHome();
  }

  /** Each role lands on the one screen e-RS lets it use. */
  private async showRoleHome(): Promise<void> {
    if (this.can.worklist) await this.showWorklist(WORKLISTS[0].value);
    else if (this.can.serviceSearch) await this.showServices();
    else this.go({ name: 'no-screen' });
  }

  /** Specialty names come from A004 where the role may call it, else from what e-RS sent. */
  private async specialtyNames(): Promise<(code: fhir.Code) => string> {
    if (!this.can.referrals) return fallbackText;
    const specialties = await this.referenceData.get('SPECIALTY');
    return (code) => specialties.text(code);
  }

  private async showWorklist(listType: string): Promise<void> {
    this.current = { name: 'worklist', listType, rows: null };
    // Reference data first (once per page load), so A008 is the newest call e-RS saw.
    const specialty = await this.specialtyNames();
    const list = await gateway.ersJson('POST', 'STU3/v1/ReferralRequest/$ers.fetchworklist', fhir.worklistRequest(listType));
    this.go({ name: 'worklist', listType, rows: fhir.worklist(list).map((row) => ({ row, specialty: specialty(row.specialty) })) });
  }

  /** The worklist row says who and what; A005 adds what the List lacks (attachments, appointment, version). */
  private async showReferral(row: WorklistView): Promise<void> {
    const ubrn = row.row.ubrn;
    const details = fhir.referral(await gateway.ersJson('GET', `STU3/v1/ReferralRequest/${encodeURIComponent(ubrn)}`));
    // A clinic type is named from A004 only when the referral has one to name.
    const clinicType = details.clinicType.code === '' ? '' : (await this.referenceData.get('CLINIC-TYPE')).text(details.clinicType);
    this.go({ name: 'referral', ubrn, row, referral: { details, specialty: row.specialty, clinicType } });
  }

  private async download(screen: Extract<Screen, { name: 'referral' }>, attachment: fhir.Attachment): Promise<void> {
    const response = await gateway.ers('GET', `STU3/v1/Binary/${encodeURIComponent(attachment.id)}`, undefined, '*/*');
    const saved = await saveAs(response, attachment.title);
    this.go({ ...screen, problem: undefined, notice: `Downloaded ${saved.name} (${bytes(saved.size)}).` });
  }

  private async downloadCri(screen: Extract<Screen, { name: 'referral' }>): Promise<void> {
    const response = await gateway.ers('POST', `STU3/v1/ReferralRequest/${encodeURIComponent(screen.ubrn)}/$ers.generateCRI`, undefined, 'application/pdf');
    const saved = await saveAs(response, `clinical-information-${screen.ubrn}.pdf`);
    this.go({ ...screen, problem: undefined, notice: `Downloaded ${saved.name} (${bytes(saved.size)}).` });
  }

  private async showServices(): Promise<void> {
    this.current = { name: 'services', form: EMPTY_FORM, specialties: null, clinicTypes: null, services: null };
    const specialties = await this.referenceData.get('SPECIALTY');
    const clinicTypes = await this.referenceData.get('CLINIC-TYPE');
    this.go({ name: 'services', form: EMPTY_FORM, specialties, clinicTypes, services: null });
  }

  private async searchServices(screen: Extract<Screen, { name: 'services' }>, form: SearchForm): Promise<void> {
    const search = checkForm(form, screen.clinicTypes?.concepts ?? [], this.can.onBehalfOfClinician);
    if (Array.isArray(search)) {
      this.go({ ...screen, form, errors: search, problem: undefined, services: null }, 'problem');
      return;
    }
    this.current = { ...screen, form, errors: [], problem: undefined, services: null };
    const specialtySystem = screen.specialties?.url || 'https://fhir.nhs.uk/STU3/CodeSystem/SPECIALTY';
    const list = await gateway.ersJson('POST', 'STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', fhir.serviceSearchRequest(search, specialtySystem));
    const names = screen.specialties;
    this.go({
      ...screen,
      form,
      errors: [],
      problem: undefined,
      services: fhir.services(list).map((service) => ({ service, specialty: names === null ? fallbackText(service.specialty) : names.text(service.specialty) })),
    });
  }

  private async signOut(): Promise<void> {
    await gateway.signOut();
    this.session = null;
    this.card = null;
    sessionStorage.removeItem('card-label');
    localStorage.removeItem(SIGNED_IN_HINT);
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
