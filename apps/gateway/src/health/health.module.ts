import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { DrainState } from './drain-state';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [StoreModule],
  controllers: [HealthController],
  providers: [DrainState, HealthService],
  exports: [DrainState, HealthService],
})
export class HealthModule {}
