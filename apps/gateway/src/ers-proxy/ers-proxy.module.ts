import { Module } from '@nestjs/common';
import { ErsModule } from '../ers/ers.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ProblemModule } from '../problem/problem.module';
import { SessionModule } from '../session/session.module';
import { StoreModule } from '../store/store.module';
import { ErsProxyService } from './ers-proxy.service';
import { ErsSessionLiveness } from './ers-session-liveness';

/** `ANY /api/ers/*`: the proxied e-RS calls (the hot path), served for the front door. */
@Module({
  imports: [SessionModule, StoreModule, ErsModule, MetricsModule, ProblemModule],
  providers: [ErsProxyService, ErsSessionLiveness],
  exports: [ErsProxyService],
})
export class ErsProxyModule {}
