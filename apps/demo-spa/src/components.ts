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

/** A field's error, as NHS.UK forms show it: in the error summary (linked) and above the field. */
export interface FieldError {
  /** The id of the input the summary links to. */
  field: string;
  text: string;
}

/** The error summary for a form that was sent incomplete: each problem links to its field. */
export function formErrorSummary(errors: readonly FieldError[]): HTMLDivElement {
  return h(
    'div',
    { class: 'nhsuk-error-summary', tabindex: -1, 'data-problem-code': 'form' },
    h(
      'div',
      { role: 'alert' },
      h('h2', { class: 'nhsuk-error-summary__heading' }, 'There is a problem'),
      h(
        'div',
        { class: 'nhsuk-error-summary__body' },
        h(
          'ul',
          { class: 'nhsuk-list nhsuk-error-summary__list' },
          errors.map((error) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  href: `#${error.field}`,
                  onclick: (event: MouseEvent) => {
                    event.preventDefault();
                    document.getElementById(error.field)?.focus();
                  },
                },
                error.text,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

const errorMessage = (id: string, text: string): HTMLSpanElement =>
  h('span', { class: 'nhsuk-error-message', id }, hidden('Error: '), text);

const describedBy = (...ids: (string | null)[]): string | undefined => {
  const present = ids.filter((id): id is string => id !== null);
  return present.length === 0 ? undefined : present.join(' ');
};

export interface RadioItem {
  value: string;
  label: string;
  hint?: string;
  checked?: boolean;
}

export interface FieldOptions {
  /** The id of the first input, which an error summary links to. */
  id?: string;
  hint?: string;
  error?: string | null;
}

/** NHS.UK radios: none is checked unless the user checked it (the design system never pre-selects). */
export function radios(name: string, legend: string, items: readonly RadioItem[], options: FieldOptions = {}): HTMLDivElement {
  const base = options.id ?? nextId(name);
  const hintId = options.hint === undefined ? null : `${base}-fieldset-hint`;
  const errorId = options.error === undefined || options.error === null ? null : `${base}-error`;
  return h(
    'div',
    { class: `nhsuk-form-group${errorId === null ? '' : ' nhsuk-form-group--error'}` },
    h(
      'fieldset',
      { class: 'nhsuk-fieldset', 'aria-describedby': describedBy(hintId, errorId) },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--m' }, legend),
      hintId === null ? null : h('div', { class: 'nhsuk-hint', id: hintId }, options.hint),
      errorId === null ? null : errorMessage(errorId, options.error ?? ''),
      h(
        'div',
        { class: 'nhsuk-radios' },
        items.map((item, index) => {
          const id = index === 0 ? base : `${base}-${index + 1}`;
          const itemHintId = `${id}-hint`;
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
              'aria-describedby': item.hint === undefined ? undefined : itemHintId,
            }),
            h('label', { class: 'nhsuk-label nhsuk-radios__label', for: id }, item.label),
            item.hint === undefined ? null : h('div', { class: 'nhsuk-hint nhsuk-radios__hint', id: itemHintId }, item.hint),
          );
        }),
      ),
    ),
  );
}

export interface SelectOptions extends FieldOptions {
  onchange?: (event: Event) => void;
}

interface FieldIds {
  id: string;
  hintId: string | null;
  errorId: string | null;
}

function fieldIds(name: string, options: FieldOptions): FieldIds {
  const id = options.id ?? nextId(name);
  return {
    id,
    hintId: options.hint === undefined ? null : `${id}-hint`,
    errorId: options.error === undefined || options.error === null ? null : `${id}-error`,
  };
}

/** An NHS.UK form group: the label, the hint and the error message, then the control. */
function labelledGroup(ids: FieldIds, label: string, options: FieldOptions, control: HTMLElement): HTMLDivElement {
  return h(
    'div',
    { class: `nhsuk-form-group${ids.errorId === null ? '' : ' nhsuk-form-group--error'}` },
    h('label', { class: 'nhsuk-label', for: ids.id }, label),
    ids.hintId === null ? null : h('div', { class: 'nhsuk-hint', id: ids.hintId }, options.hint),
    ids.errorId === null ? null : errorMessage(ids.errorId, options.error ?? ''),
    control,
  );
}

export function select(name: string, label: string, choices: readonly { value: string; text: string; selected?: boolean }[], options: SelectOptions = {}): HTMLDivElement {
  const { id, hintId, errorId } = fieldIds(name, options);
  return labelledGroup(
    { id, hintId, errorId },
    label,
    options,
    h(
      'select',
      {
        class: `nhsuk-select${errorId === null ? '' : ' nhsuk-select--error'}`,
        id,
        name,
        'aria-describedby': describedBy(hintId, errorId),
        ...(options.onchange === undefined ? {} : { onchange: options.onchange }),
      },
      choices.map((choice) => h('option', { value: choice.value, selected: choice.selected === true }, choice.text)),
    ),
  );
}

export interface TextInputOptions extends FieldOptions {
  value?: string;
  /** NHS.UK fixed widths: 10 characters for an NHS number (nhsuk-input--width-10). */
  width?: 10 | 20;
  inputmode?: 'numeric' | 'text';
}

export function textInput(name: string, label: string, options: TextInputOptions = {}): HTMLDivElement {
  const { id, hintId, errorId } = fieldIds(name, options);
  const classes = ['nhsuk-input'];
  if (options.width !== undefined) classes.push(`nhsuk-input--width-${options.width}`);
  if (errorId !== null) classes.push('nhsuk-input--error');
  return labelledGroup(
    { id, hintId, errorId },
    label,
    options,
    h('input', {
      class: classes.join(' '),
      id,
      name,
      type: 'text',
      value: options.value ?? '',
      inputmode: options.inputmode,
      spellcheck: 'false',
      autocomplete: 'off',
      'aria-describedby': describedBy(hintId, errorId),
    }),
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
