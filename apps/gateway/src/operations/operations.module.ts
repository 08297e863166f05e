import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { HealthModule } from '../health/health.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ProblemModule } from '../problem/problem.module';
import { OpsListener } from './ops-listener';

/** `OPS_PORT`: the operators' listener. */
@Module({
  imports: [AdminModule, HealthModule, MetricsModule, ProblemModule],
  providers: [OpsListener],
  exports: [OpsListener],
})
export class OperationsModule {}
