import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { GatewayConfig, GatewayConfigModule } from '@libs/config';
import { ApiRequestGuard } from './api-guard/api-request.guard';
import { ErsProxyModule } from './ers-proxy/ers-proxy.module';
import { HealthModule } from './health/health.module';
import { type GatewayLogger } from './logging/logger';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProblemFilter } from './problem/problem.filter';
import { OpenApiModule } from './openapi/openapi.module';
import { SessionModule } from './session/session.module';

/** The gateway's table of contents: configuration, then one module per feature. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: GatewayLogger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        { ...GatewayConfigModule.forRoot(config), global: true },
        LoggingModule.forRoot(logger),
        MetricsModule,
        HealthModule,
        SessionModule,
        ErsProxyModule,
        OpenApiModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiRequestGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
