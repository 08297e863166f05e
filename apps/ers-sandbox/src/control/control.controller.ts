import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import type { TestCard } from '../fixtures/cards';
import type { RecordedRequest } from '../state/request-log';
import type { SwitchesView } from '../state/switches';
import { ControlBodyPipe } from './control-body.pipe';
import {
  ControlService,
  type BinaryFixtureView,
  type RoleChangeView,
  type SessionView,
  type UploadView,
} from './control.service';
import { RoleChangeDto } from './dto/role-change.dto';
import { SwitchesDto } from './dto/switches.dto';

/** The `/_sandbox` control API (never under `/ers-api`): see the README for every call. */
@Controller('_sandbox')
export class ControlController {
  constructor(private readonly control: ControlService) {}

  @Get('cards')
  cards(): readonly TestCard[] {
    return this.control.cards();
  }

  @Get('sessions')
  sessions(@Query('state') state?: string): SessionView[] {
    return this.control.listSessions(state);
  }

  @Get('sessions/:key')
  session(@Param('key') key: string): SessionView {
    return this.control.session(key);
  }

  @Post('sessions/:key/expire')
  @HttpCode(200)
  expire(@Param('key') key: string): SessionView {
    return this.control.expire(key);
  }

  /** Withdraws a role from a user (RBAC change): their sessions live on, calls in that role get a 403. */
  @Post('roles/revoke')
  @HttpCode(200)
  revokeRole(@Body(new ControlBodyPipe(RoleChangeDto)) body: RoleChangeDto): RoleChangeView {
    return this.control.revokeRole(body);
  }

  @Post('roles/restore')
  @HttpCode(200)
  restoreRole(@Body(new ControlBodyPipe(RoleChangeDto)) body: RoleChangeDto): RoleChangeView {
    return this.control.restoreRole(body);
  }

  @Get('requests')
  requests(@Query('limit') limit?: string, @Query('operation') operation?: string): readonly RecordedRequest[] {
    return this.control.recentRequests(limit, operation);
  }

  @Delete('requests')
  @HttpCode(204)
  clearRequests(): void {
    this.control.clearRequests();
  }

  @Get('uploads')
  uploads(): UploadView[] {
    return this.control.listUploads();
  }

  @Get('fixtures/binaries')
  binaries(): BinaryFixtureView[] {
    return this.control.binaryFixtures();
  }

  @Get('switches')
  switches(): SwitchesView {
    return this.control.viewSwitches();
  }

  @Put('switches')
  updateSwitches(@Body(new ControlBodyPipe(SwitchesDto)) body: SwitchesDto): SwitchesView {
    return this.control.updateSwitches(body);
  }

  @Get('holds')
  holds(): { waiting: number } {
    return this.control.holdsWaiting();
  }

  @Post('holds/release')
  @HttpCode(200)
  releaseHolds(): { released: number } {
    return this.control.releaseHolds();
  }

  @Post('reset')
  @HttpCode(204)
  reset(): void {
    this.control.reset();
  }
}
