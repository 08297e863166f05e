import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { IdentityAgentController } from './identity-agent.controller';
import { IdentityAgentService } from './identity-agent.service';

/** `/_sandbox/identity-agent`: insert and remove the test smartcards. */
@Module({ imports: [StateModule], controllers: [IdentityAgentController], providers: [IdentityAgentService] })
export class IdentityAgentModule {}
