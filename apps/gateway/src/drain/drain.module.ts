import { Module } from '@nestjs/common';
import { ErsModule } from '../ers/ers.module';
import { HealthModule } from '../health/health.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SessionModule } from '../session/session.module';
import { Drain } from './drain';

/** SIGTERM: readiness 503 for the grace period, then the listener closes and the work in flight ends. */
@Module({
  imports: [HealthModule, MetricsModule, SessionModule, ErsModule],
  providers: [Drain],
  exports: [Drain],
})
export class DrainModule {}
