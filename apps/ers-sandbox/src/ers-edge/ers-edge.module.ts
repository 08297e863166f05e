import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { StateModule } from '../state/state.module';
import { ErsEdgeGuard } from './ers-edge.guard';
import { ErsTraffic } from './ers-traffic';
import { UnknownPathController } from './unknown-path.controller';

/** The e-RS "edge": traffic recording and faults, ASID/session/role checks, unknown paths. */
@Module({
  imports: [StateModule],
  controllers: [UnknownPathController],
  providers: [ErsTraffic, { provide: APP_GUARD, useClass: ErsEdgeGuard }],
  exports: [ErsTraffic],
})
export class ErsEdgeModule {}
