/**
 * Live countdowns to the session's idle and absolute expiry. One timer updates every element
 * marked with data-expires-at; role="timer" keeps screen readers from announcing each second.
 */
import { h } from './dom';

const pad = (value: number): string => String(value).padStart(2, '0');

export function remaining(milliseconds: number): string {
  if (milliseconds <= 0) return 'ended';
  const total = Math.floor(milliseconds / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)} left` : `${minutes}:${pad(seconds)} left`;
}

const clock = (iso: string): string => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function countdown(iso: string, expiry: 'idle' | 'absolute'): HTMLSpanElement {
  const element = h('span', { role: 'timer', 'data-expires-at': iso, 'data-expiry': expiry, class: 'app-countdown' });
  paint(element);
  return element;
}

function paint(element: HTMLElement): void {
  const iso = element.dataset.expiresAt;
  if (iso === undefined) return;
  element.textContent = `${remaining(Date.parse(iso) - Date.now())} (at ${clock(iso)})`;
}

let timer: number | undefined;
export function startCountdowns(): void {
  if (timer !== undefined) return;
  timer = window.setInterval(() => {
    for (const element of document.querySelectorAll<HTMLElement>('[data-expires-at]')) paint(element);
  }, 1000);
}
