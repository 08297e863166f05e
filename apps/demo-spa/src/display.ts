/** How e-RS values read on screen: NHS numbers 3-3-4, UBRNs 4-4-4, dates in words, codes as names. */
import { type Code } from './fhir';

/** NHS numbers are shown in three groups (NHS digital service manual: "999 123 4567"). */
export const nhsNumberText = (nhsNumber: string): string => nhsNumber.replace(/^(\d{3})(\d{3})(\d{4})$/, '$1 $2 $3');

export const ubrnText = (ubrn: string): string => ubrn.replace(/^(\d{4})(\d{4})(\d{4})$/, '$1 $2 $3');

export const dateText = (iso: string): string => {
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? iso : new Date(parsed).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
};

/** An appointment's time: "20 Nov 2026, 10:30" (the browser's time zone). */
export const dateTimeText = (iso: string): string => {
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed)
    ? iso
    : new Date(parsed).toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
};

/** A code no list names, made readable: `GENERAL_MEDICINE` → "General medicine". */
export const codeWords = (code: string): string => {
  const words = code.toLowerCase().split('_').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/**
 * eRS-Priority-1 is not among A004's code systems, so its three displays are spelled here (as in
 * the e-RS FHIR API's PRIORITY CodeSystem).
 */
const PRIORITIES: Readonly<Record<string, string>> = { ROUTINE: 'Routine', URGENT: 'Urgent', TWO_WEEK_WAIT: 'Two week wait' };

export const priorityText = (priority: Code): string => PRIORITIES[priority.code.toUpperCase()] ?? (priority.display || codeWords(priority.code));

export const PRIORITY_CODES = Object.keys(PRIORITIES);
