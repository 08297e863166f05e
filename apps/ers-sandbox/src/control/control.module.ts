import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { ControlController } from './control.controller';
import { ControlService } from './control.service';
import { UnknownControlController } from './unknown-control.controller';

/** `/_sandbox`: cards, sessions, recorded requests, uploads, fixtures, switches, holds, reset. */
@Module({
  imports: [StateModule],
  controllers: [ControlController, UnknownControlController],
  providers: [ControlService],
})
export class ControlModule {}
