import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ControlBodyPipe } from '../control/control-body.pipe';
import { InsertCardDto, RemoveCardDto } from './dto/identity-agent.dto';
import { IdentityAgentService } from './identity-agent.service';

@Controller('_sandbox/identity-agent')
export class IdentityAgentController {
  constructor(private readonly agent: IdentityAgentService) {}

  @Post('insert')
  @HttpCode(200)
  insert(@Body(new ControlBodyPipe(InsertCardDto)) body: InsertCardDto): { label: string; token: string } {
    return this.agent.insert(body);
  }

  @Post('remove')
  @HttpCode(200)
  remove(@Body(new ControlBodyPipe(RemoveCardDto)) body: RemoveCardDto): { label: string; endedSessions: number } {
    return this.agent.remove(body);
  }
}
