import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { GatewayConfig, GatewayConfigModule } from '@libs/config';
import { DrainModule } from './drain/drain.module';
import { AdmittedGuard } from './front-door/admitted.guard';
import { FrontDoorModule } from './front-door/front-door.module';
import { HealthModule } from './health/health.module';
import { type GatewayLogger } from './logging/logger';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { OpenApiModule } from './openapi/openapi.module';
import { OperationsModule } from './operations/operations.module';
import { ProblemFilter } from './problem/problem.filter';
import { ProblemModule } from './problem/problem.module';
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
        ProblemModule,
        HealthModule,
        SessionModule,
        FrontDoorModule,
        OperationsModule,
        OpenApiModule,
        DrainModule,
      ],
      providers: [
        { provide: APP_GUARD, useExisting: AdmittedGuard },
        { provide: APP_FILTER, useExisting: ProblemFilter },
      ],
    };
  }
}
