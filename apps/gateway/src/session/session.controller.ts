import { Body, Controller, Delete, Get, HttpCode, Post, Put, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Req } from '@nestjs/common';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { ChooseRoleDto } from './dto/choose-role.dto';
import { LoginDto } from './dto/login.dto';
import { ErsSessionAuthGuard } from './ers-session.strategy';
import { ClientAddress, Current } from './current-session.decorator';
import { JsonBodyGuard } from './json-body.guard';
import { SessionCookie } from './session-cookie';
import { type CurrentSession, SessionService } from './session.service';
import { SessionView, toSessionView } from './session-view';
import { SmartcardAuthGuard } from './smartcard.strategy';

@ApiTags('session')
@Controller('api/session')
@UseGuards(JsonBodyGuard)
@ApiProblems('invalid-request', 'csrf', 'origin', 'method-not-allowed', 'payload-too-large', 'unsupported-media-type', 'store-unavailable')
export class SessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookie: SessionCookie,
  ) {}

  @Post()
  @HttpCode(201)
  @UseGuards(SmartcardAuthGuard)
  @ApiOperation({ summary: 'Sign in with a smartcard SSO token (A001); sets a new session cookie' })
  @ApiBody({ type: LoginDto })
  @ApiResponse({ status: 201, type: SessionView })
  @ApiProblems('invalid-token', 'no-roles', 'too-many-logins', 'upstream-timeout', 'upstream-unavailable', 'upstream-error')
  login(@Current() current: CurrentSession, @Res({ passthrough: true }) reply: FastifyReply): SessionView {
    this.cookie.issue(reply, current.sessionId);
    return toSessionView(current.session);
  }

  @Get()
  @UseGuards(ErsSessionAuthGuard)
  @ApiOperation({ summary: 'Read the session (does not extend the idle timeout)' })
  @ApiResponse({ status: 200, type: SessionView })
  @ApiProblems('no-session')
  read(@Current() current: CurrentSession): SessionView {
    return toSessionView(current.session);
  }

  @Put('role')
  @UseGuards(ErsSessionAuthGuard)
  @ApiOperation({
    summary: 'Choose a role (A002), or switch role (A003, A001, A002); sets a new session cookie',
  })
  @ApiResponse({ status: 200, type: SessionView })
  @ApiProblems('no-session', 'unknown-role', 'session-expired', 'too-many-logins', 'upstream-timeout', 'upstream-unavailable', 'upstream-error')
  async chooseRole(
    @Current() current: CurrentSession,
    @Body() choice: ChooseRoleDto,
    @ClientAddress() clientAddress: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionView> {
    const chosen = await this.sessions.chooseRole(current, choice, clientAddress);
    this.cookie.issue(reply, chosen.sessionId);
    return toSessionView(chosen.session);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: the session ends now, its A003 follows; idempotent' })
  @ApiResponse({ status: 204, description: 'signed out (also when there was no session)' })
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const sessionId = this.cookie.read(request);
    if (sessionId !== null) await this.sessions.end(sessionId, 'logout');
    this.cookie.clear(reply);
  }
}
