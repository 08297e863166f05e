import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import {
  CookieConfig,
  ErsConfig,
  GatewayConfig,
  HttpConfig,
  LogConfig,
  SessionConfig,
  StoreConfig,
} from './gateway-config';

/**
 * Provides an already loaded `GatewayConfig` and each of its namespaces under their own class
 * token, so a service asks only for what it uses (`constructor(private readonly cookie: CookieConfig)`).
 * The config is loaded by `main.ts` (the one place that reads `process.env`), not here.
 */
@Module({})
export class GatewayConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const providers: Provider[] = [
      { provide: GatewayConfig, useValue: config },
      { provide: HttpConfig, useValue: config.http },
      { provide: ErsConfig, useValue: config.ers },
      { provide: StoreConfig, useValue: config.store },
      { provide: SessionConfig, useValue: config.session },
      { provide: CookieConfig, useValue: config.cookie },
      { provide: LogConfig, useValue: config.log },
    ];
    return { module: GatewayConfigModule, providers, exports: providers };
  }
}
