import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { ProfessionalSessionController } from './professional-session.controller';
import { ProfessionalSessionService } from './professional-session.service';

/** A001 create, A002 select role, A003 delete. */
@Module({
  imports: [StateModule],
  controllers: [ProfessionalSessionController],
  providers: [ProfessionalSessionService],
})
export class ProfessionalSessionModule {}
