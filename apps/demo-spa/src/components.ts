/** NHS.UK design system components, built with h() (markup as in nhsuk-frontend 10's templates). */
import { type Child, h, hidden } from './dom';
import { type Problem } from './gateway';

let ids = 0;
/** Unique ids for label/hint associations across re-renders. */
export const nextId = (prefix: string): string => `${prefix}-${++ids}`;

export function errorSummary(problem: Problem): HTMLDivElement {
  const facts: Child[] = [];
  if (problem.status !== null) facts.push(`HTTP ${problem.status}`);
  if (problem.code !== null) facts.push(h('span', {}, ' · code ', h('code', {}, problem.code)));
  if (problem.correlationId !== null) facts.push(h('span', {}, ' · correlation ID ', h('code', { class: 'app-mono' }, problem.correlationId)));
  return h(
    'div',
    { class: 'nhsuk-error-summary', tabindex: -1, 'data-problem-code': problem.code ?? '' },
    // The role=alert sits in a child, as in nhsuk-frontend, so focusing the summary does not
    // race the announcement.
    h(
      'div',
      { role: 'alert' },
      h('h2', { class: 'nhsuk-error-summary__heading' }, problem.title),
      h(
        'div',
        { class: 'nhsuk-error-summary__body' },
        problem.detail === '' ? null : h('p', { class: 'app-problem-detail' }, problem.detail),
        facts.length === 0 ? null : h('p', { class: 'nhsuk-body-s app-problem-facts' }, ...facts),
      ),
    ),
  );
}

export function insetText(...children: Child[]): HTMLDivElement {
  return h('div', { class: 'nhsuk-inset-text' }, hidden('Information: '), ...children);
}

export function warningCallout(heading: string, ...children: Child[]): HTMLDivElement {
  return h(
    'div',
    { class: 'nhsuk-card nhsuk-card--warning' },
    h('div', { class: 'nhsuk-card__content' }, h('h2', { class: 'nhsuk-card__heading' }, heading), ...children),
  );
}

export interface ButtonOptions {
  variant?: 'secondary' | 'reverse' | 'warning';
  small?: boolean;
  type?: 'button' | 'submit';
  onclick?: (event: MouseEvent) => void;
  describedBy?: string;
}

export function button(label: Child, options: ButtonOptions = {}): HTMLButtonElement {
  const classes = ['nhsuk-button'];
  if (options.variant !== undefined) classes.push(`nhsuk-button--${options.variant}`);
  if (options.small === true) classes.push('nhsuk-button--small');
  return h(
    'button',
    {
      class: classes.join(' '),
      type: options.type ?? 'button',
      'aria-describedby': options.describedBy,
      ...(options.onclick === undefined ? {} : { onclick: options.onclick }),
    },
    label,
  );
}

export function summaryList(rows: readonly [string, Child][], classes = ''): HTMLDListElement {
  return h(
    'dl',
    { class: `nhsuk-summary-list ${classes}`.trim() },
    rows.map(([key, value]) =>
      h('div', { class: 'nhsuk-summary-list__row' }, h('dt', { class: 'nhsuk-summary-list__key' }, key), h('dd', { class: 'nhsuk-summary-list__value' }, value)),
    ),
  );
}

export function table(caption: string, headers: readonly string[], rows: readonly (readonly Child[])[], classes = ''): HTMLTableElement {
  return h(
    'table',
    { class: `nhsuk-table ${classes}`.trim() },
    h('caption', { class: 'nhsuk-table__caption nhsuk-table__caption--m' }, caption),
    h('thead', { class: 'nhsuk-table__head' }, h('tr', { class: 'nhsuk-table__row' }, headers.map((header) => h('th', { class: 'nhsuk-table__header', scope: 'col' }, header)))),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      rows.map((cells) => h('tr', { class: 'nhsuk-table__row' }, cells.map((cell) => h('td', { class: 'nhsuk-table__cell' }, cell)))),
    ),
  );
}

export interface RadioItem {
  value: string;
  label: string;
  hint?: string;
  checked?: boolean;
}

export function radios(name: string, legend: string, items: readonly RadioItem[]): HTMLDivElement {
  return h(
    'div',
    { class: 'nhsuk-form-group' },
    h(
      'fieldset',
      { class: 'nhsuk-fieldset' },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--m' }, legend),
      h(
        'div',
        { class: 'nhsuk-radios' },
        items.map((item) => {
          const id = nextId(name);
          const hintId = `${id}-hint`;
          return h(
            'div',
            { class: 'nhsuk-radios__item' },
            h('input', {
              class: 'nhsuk-radios__input',
              id,
              name,
              type: 'radio',
              value: item.value,
              checked: item.checked === true,
              'aria-describedby': item.hint === undefined ? undefined : hintId,
            }),
            h('label', { class: 'nhsuk-label nhsuk-radios__label', for: id }, item.label),
            item.hint === undefined ? null : h('div', { class: 'nhsuk-hint nhsuk-radios__hint', id: hintId }, item.hint),
          );
        }),
      ),
    ),
  );
}

export function select(name: string, label: string, options: readonly { value: string; text: string; selected?: boolean }[]): HTMLDivElement {
  const id = nextId(name);
  return h(
    'div',
    { class: 'nhsuk-form-group' },
    h('label', { class: 'nhsuk-label', for: id }, label),
    h(
      'select',
      { class: 'nhsuk-select', id, name },
      options.map((option) => h('option', { value: option.value, selected: option.selected === true }, option.text)),
    ),
  );
}

export function backLink(text: string, onclick: () => void): HTMLAnchorElement {
  return h(
    'a',
    {
      class: 'nhsuk-back-link',
      href: '#',
      onclick: (event: MouseEvent) => {
        event.preventDefault();
        onclick();
      },
    },
    text,
  );
}

/** A link that runs an action (same look and keyboard behaviour as any link). */
export function actionLink(text: Child, onclick: () => void): HTMLAnchorElement {
  return h(
    'a',
    {
      href: '#',
      onclick: (event: MouseEvent) => {
        event.preventDefault();
        onclick();
      },
    },
    text,
  );
}
