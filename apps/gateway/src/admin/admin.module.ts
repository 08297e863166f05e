import { Module } from '@nestjs/common';
import { ProblemModule } from '../problem/problem.module';
import { SessionModule } from '../session/session.module';
import { StoreModule } from '../store/store.module';
import { AdminApi } from './admin-api';
import { AdminSessionsService } from './admin-sessions.service';

/** The admin API (`ADMIN_TOKEN`): a user's sessions listed and ended, on the operators' listener only. */
@Module({
  imports: [StoreModule, SessionModule, ProblemModule],
  providers: [AdminApi, AdminSessionsService],
  exports: [AdminApi],
})
export class AdminModule {}
