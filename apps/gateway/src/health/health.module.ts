import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { DrainState } from './drain-state';
import { HealthController } from './health.controller';

@Module({
  imports: [StoreModule],
  controllers: [HealthController],
  providers: [DrainState],
  exports: [DrainState],
})
export class HealthModule {}
