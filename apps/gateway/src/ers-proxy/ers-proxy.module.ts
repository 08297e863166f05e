import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ErsModule } from '../ers/ers.module';
import { HealthModule } from '../health/health.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SessionModule } from '../session/session.module';
import { StoreModule } from '../store/store.module';
import { ErsCallStrategy } from './ers-call.strategy';
import { ErsFastPath } from './ers-fast-path';
import { ErsProxyController } from './ers-proxy.controller';
import { ErsProxyService } from './ers-proxy.service';

/** `ANY /api/ers/*`: the proxied e-RS calls (the hot path). */
@Module({
  imports: [PassportModule, SessionModule, StoreModule, ErsModule, MetricsModule, HealthModule],
  controllers: [ErsProxyController],
  providers: [ErsProxyService, ErsCallStrategy, ErsFastPath],
})
export class ErsProxyModule {}
