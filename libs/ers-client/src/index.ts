export * from './ers-session-client.port';
export * from './errors';
export {
  ErsClientOptions,
  InjectErsClientOptions,
  type ErsClientTlsOptions,
} from './ers-client.options';
export { ErsClientModule, type ErsClientModuleAsyncOptions } from './ers-client.module';
export { ProfessionalSessionClient } from './professional-session.client';
export { ErsLane, type ErsSessionLanes, ERS_SESSION_LANES } from './session-lanes';
export type { ErsTransportFailure } from './transport-errors';
export * from './proxy';
