export * from './config-error';
export * from './gateway-config';
export * from './gateway-config.module';
export { GatewayEnvironment, GATEWAY_VARIABLES, type GatewayVariable } from './gateway-environment';
export type { HostPort } from './env-formats';
export {
  loadGatewayConfig,
  DEFAULT_COOKIE_NAME,
  INSECURE_DEFAULT_COOKIE_NAME,
  type LoadGatewayConfigOptions,
} from './load-gateway-config';
