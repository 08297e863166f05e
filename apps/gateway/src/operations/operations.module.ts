import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ProblemModule } from '../problem/problem.module';
import { OpsListener } from './ops-listener';

/** `OPS_PORT`: the operators' listener. */
@Module({
  imports: [HealthModule, MetricsModule, ProblemModule],
  providers: [OpsListener],
  exports: [OpsListener],
})
export class OperationsModule {}
