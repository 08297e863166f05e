import { Module } from '@nestjs/common';
import { GatewayMetrics } from './gateway-metrics';

/** The metrics registry; served on `OPS_PORT` only (`operations/`). */
@Module({ providers: [GatewayMetrics], exports: [GatewayMetrics] })
export class MetricsModule {}
