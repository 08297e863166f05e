import { Injectable } from '@nestjs/common';
import { InjectSandboxConfig, type SandboxConfig } from '../config/sandbox-config';

export const ERROR_SWITCH_STATUSES = [429, 500, 502, 503, 504] as const;
export type ErrorSwitchStatus = (typeof ERROR_SWITCH_STATUSES)[number];

/** A fault for the next `count` e-RS requests whose path (with query) contains `path` (and of `method`, when given). */
export interface FaultSwitch {
  count: number;
  path: string | null;
  method?: string | null;
}
export interface ErrorSwitch extends FaultSwitch {
  status: ErrorSwitchStatus;
}

export interface SwitchesView {
  latencyMs: number;
  a016DelayMs: number;
  error: ErrorSwitch | null;
  drop: FaultSwitch | null;
  hang: FaultSwitch | null;
}

export type SwitchesUpdate = Partial<SwitchesView>;

export type Fault = { kind: 'drop' } | { kind: 'hang' } | { kind: 'error'; status: ErrorSwitchStatus };

/** The behaviour switches of `/_sandbox/switches`. */
@Injectable()
export class Switches {
  private state: SwitchesView;

  constructor(@InjectSandboxConfig() private readonly config: SandboxConfig) {
    this.state = this.defaults();
  }

  view(): SwitchesView {
    const copy = <T extends object>(value: T | null): T | null => (value === null ? null : { ...value });
    return { ...this.state, error: copy(this.state.error), drop: copy(this.state.drop), hang: copy(this.state.hang) };
  }

  update(update: SwitchesUpdate): SwitchesView {
    this.state = { ...this.state, ...definedOnly(update) };
    return this.view();
  }

  get latencyMs(): number {
    return this.state.latencyMs;
  }

  get a016DelayMs(): number {
    return this.state.a016DelayMs;
  }

  /** Takes one fault for this request, if a switch matches: drop first, then hang, then error. */
  takeFault(pathWithQuery: string, method = 'GET'): Fault | null {
    if (this.take('drop', pathWithQuery, method)) return { kind: 'drop' };
    if (this.take('hang', pathWithQuery, method)) return { kind: 'hang' };
    const error = this.state.error;
    if (this.take('error', pathWithQuery, method) && error !== null) return { kind: 'error', status: error.status };
    return null;
  }

  reset(): void {
    this.state = this.defaults();
  }

  private take(name: 'drop' | 'hang' | 'error', pathWithQuery: string, method: string): boolean {
    const fault = this.state[name];
    if (fault === null || (fault.path !== null && !pathWithQuery.includes(fault.path))) return false;
    if (fault.method != null && fault.method.toUpperCase() !== method) return false;
    fault.count -= 1;
    if (fault.count <= 0) this.state[name] = null;
    return true;
  }

  private defaults(): SwitchesView {
    return { latencyMs: 0, a016DelayMs: this.config.a016DelayMs, error: null, drop: null, hang: null };
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
