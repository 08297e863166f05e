import { Module } from '@nestjs/common';
import { ErsProxyModule } from '../ers-proxy/ers-proxy.module';
import { HealthModule } from '../health/health.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ProblemModule } from '../problem/problem.module';
import { AdmittedGuard } from './admitted.guard';
import { FrontDoor } from './front-door';

/** The public listener's one request handler, and the guard that keeps Nest's `/api` routes behind it. */
@Module({
  imports: [ErsProxyModule, HealthModule, MetricsModule, ProblemModule],
  providers: [FrontDoor, AdmittedGuard],
  exports: [FrontDoor, AdmittedGuard],
})
export class FrontDoorModule {}
