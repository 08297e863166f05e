/** The two side panels: the user's session (with live expiry) and "What e-RS received". */
import { button, insetText, summaryList, table } from './components';
import { countdown } from './countdown';
import { type Child, h, hidden } from './dom';
import { type Permission, type SessionView } from './gateway';
import { type RecordedRequest } from './sandbox';

export const functionName = (businessFunction: string): string => {
  const words = businessFunction.toLowerCase().split('_').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** e-RS organisation names come padded (" THE DENSHAM SURGERY"); show them trimmed. */
export const roleText = (role: Permission): string => `${functionName(role.businessFunction)} at ${role.orgName.trim()} (${role.orgIdentifier})`;

export const fullName = (user: SessionView['user']): string => [user.firstName, user.middleName, user.lastName].filter((part) => part !== null && part !== '').join(' ');

export interface SessionActions {
  switchRole: () => void;
  signOut: () => void;
  removeCard: () => void;
}

export interface CardState {
  label: string;
  removed: { endedSessions: number } | null;
}

export function sessionPanel(session: SessionView | null, card: CardState | null, actions: SessionActions): Child[] {
  if (session === null) {
    return [
      h('h2', { class: 'nhsuk-heading-m', id: 'session-panel-heading' }, 'Your session'),
      h('p', {}, 'You are not signed in.'),
      h(
        'p',
        { class: 'nhsuk-body-s' },
        'Signing in sends your card’s token to the gateway once. The gateway opens the e-RS session and keeps its key; this page only ever holds a cookie it cannot read.',
      ),
    ];
  }
  return [
    h('h2', { class: 'nhsuk-heading-m', id: 'session-panel-heading' }, 'Your session'),
    summaryList(
      [
        ['Signed in as', [fullName(session.user), h('br'), h('span', { class: 'nhsuk-body-s' }, session.user.identifier)]],
        ['Card', card?.label ?? 'unknown'],
        ['Role', session.role === null ? 'Not chosen yet' : roleText(session.role)],
        ['Idle timeout', countdown(session.idleExpiresAt, 'idle')],
        ['Absolute expiry', countdown(session.absoluteExpiresAt, 'absolute')],
      ],
      'nhsuk-summary-list--no-border app-session-summary',
    ),
    h('p', { class: 'nhsuk-body-s' }, 'Calls to e-RS extend the idle timeout; the absolute expiry never moves.'),
    card?.removed
      ? insetText(
          h(
            'p',
            { class: 'app-card-removed', tabindex: -1 },
            `Your card has been removed: e-RS ended ${card.removed.endedSessions} session${card.removed.endedSessions === 1 ? '' : 's'}. The gateway finds out on its next call to e-RS.`,
          ),
        )
      : null,
    h(
      'div',
      { class: 'app-actions' },
      session.role !== null && session.permissions.length > 1 ? button('Switch role', { variant: 'secondary', onclick: actions.switchRole }) : null,
      button('Log out', { variant: 'secondary', onclick: actions.signOut }),
      card !== null && card.removed === null ? button('Remove card', { variant: 'warning', onclick: actions.removeCard }) : null,
    ),
  ];
}

const masked = (key: string): string => `••••${key.slice(-4)}`;
const mask = (key: string): Child => [hidden('key ending '), masked(key)];

/** A001-A003 name the session key in the path too: mask it there as well. */
const maskPath = (path: string): string => path.replace(/(ProfessionalSession\/)([^/?]+)/, (_match, prefix: string, key: string) => `${prefix}${masked(key)}`);

const headerValue = (request: RecordedRequest, name: string): string | null => request.headers.find(([header]) => header === name)?.[1] ?? null;

const present = (request: RecordedRequest, name: string): boolean => request.headers.some(([header]) => header.toLowerCase() === name);

function verdict(requests: readonly RecordedRequest[], header: string): Child {
  const count = requests.filter((request) => present(request, header.toLowerCase())).length;
  return count === 0
    ? h('span', { class: 'app-absent', 'data-header-check': header }, 'None reached e-RS')
    : h('span', { class: 'app-present', 'data-header-check': header }, `Reached e-RS in ${count} call${count === 1 ? '' : 's'}`);
}

export function ersPanel(requests: readonly RecordedRequest[] | null, sandboxUrl: string, refresh: () => void): Child[] {
  const heading = h('h2', { id: 'ers-panel-heading' }, 'What e-RS received');
  const intro = h(
    'p',
    {},
    'The last calls the e-RS sandbox received, newest first, with header names exactly as they arrived. The gateway adds ',
    h('code', {}, 'XAPI_ASID'),
    ' and ',
    h('code', {}, 'HTTP_X_SESSION_KEY'),
    ' (shown here only by its last 4 characters) and drops everything the browser sent but a short allow-list.',
  );
  const refreshButton = button('Refresh', { variant: 'secondary', small: true, onclick: refresh });
  refreshButton.classList.add('app-refresh');
  if (requests === null) return [heading, intro, h('p', {}, `The sandbox at ${sandboxUrl} did not answer.`), refreshButton];
  if (requests.length === 0) return [heading, intro, h('p', { class: 'app-no-requests' }, 'e-RS has received nothing yet.'), refreshButton];
  const newestFirst = [...requests].reverse();
  return [
    heading,
    intro,
    summaryList(
      [
        ['Cookie header', verdict(requests, 'Cookie')],
        ['X-CSRF header', verdict(requests, 'X-CSRF')],
      ],
      'app-header-checks',
    ),
    table(
      `Last ${requests.length} call${requests.length === 1 ? '' : 's'} to e-RS`,
      ['Call', 'Status', 'XAPI_ASID', 'HTTP_X_SESSION_KEY', 'Header names as received'],
      newestFirst.map((request) => {
        const key = headerValue(request, 'HTTP_X_SESSION_KEY');
        const asid = headerValue(request, 'XAPI_ASID');
        return [
          h('span', {}, h('strong', {}, request.operation ?? '–'), h('br'), h('span', { class: 'app-mono' }, `${request.method} ${maskPath(request.path)}`)),
          request.status === null ? 'no answer' : String(request.status),
          h('span', { class: 'app-asid' }, asid ?? 'none'),
          h('span', { class: 'app-key' }, key === null ? 'none' : mask(key)),
          h('span', { class: 'app-header-names' }, request.rawHeaderNames.join(', ')),
        ];
      }),
      'app-table-compact app-requests',
    ),
    refreshButton,
  ];
}
