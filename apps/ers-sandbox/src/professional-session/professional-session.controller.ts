import { Body, Controller, Delete, Header, HttpCode, Param, Post, Put } from '@nestjs/common';
import type { ProfessionalSession } from '@libs/ers-contract';
import { ErsBodyPipe } from '../ers-edge/ers-body.pipe';
import { ErsSessionKeyHeader } from '../ers-edge/ers-request-context';
import { ERS_PREFIX, ErsSessionEndpoint, SESSION_JSON } from '../ers-edge/ers-route';
import { CreateProfessionalSessionDto, SelectRoleDto } from './dto/professional-session.dto';
import { ProfessionalSessionService } from './professional-session.service';

@Controller(`${ERS_PREFIX}/v1/ProfessionalSession`)
export class ProfessionalSessionController {
  constructor(private readonly service: ProfessionalSessionService) {}

  /** A001 Create Professional Session. */
  @Post()
  @HttpCode(201)
  @Header('Content-Type', SESSION_JSON)
  @ErsSessionEndpoint('A001')
  create(@Body(new ErsBodyPipe(CreateProfessionalSessionDto, { outcomeKey: null, contentType: SESSION_JSON })) body: CreateProfessionalSessionDto): ProfessionalSession {
    return this.service.create(body.token);
  }

  /** A002 Select Role. */
  @Put(':id')
  @Header('Content-Type', SESSION_JSON)
  @ErsSessionEndpoint('A002')
  selectRole(
    @Param('id') id: string,
    @ErsSessionKeyHeader() headerKey: string | undefined,
    @Body(new ErsBodyPipe(SelectRoleDto, { outcomeKey: null, contentType: SESSION_JSON })) body: SelectRoleDto,
  ): ProfessionalSession {
    return this.service.selectRole(id, headerKey, body.token, body.permission);
  }

  /** A003 Delete Professional Session. */
  @Delete(':id')
  @HttpCode(204)
  @ErsSessionEndpoint('A003')
  delete(@Param('id') id: string, @ErsSessionKeyHeader() headerKey: string | undefined): void {
    this.service.delete(id, headerKey);
  }
}
