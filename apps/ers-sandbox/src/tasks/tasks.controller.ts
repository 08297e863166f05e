import { Controller, Get, Header, Query } from '@nestjs/common';
import { ErsBase } from '../ers-edge/ers-request-context';
import { CLINICAL_ROLES, ErsBusinessEndpoint, FHIR_JSON, STU3_PREFIX } from '../ers-edge/ers-route';
import type { Bundle } from '../fixtures/fhir';
import { TasksService, type TaskQuery } from './tasks.service';

@Controller(STU3_PREFIX)
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  /** A029 Retrieve tasks for a referral; e-RS says never cache it. */
  @Get('Task')
  @Header('Content-Type', FHIR_JSON)
  @Header('Cache-Control', 'no-store')
  @ErsBusinessEndpoint('A029', CLINICAL_ROLES)
  search(@Query() query: TaskQuery, @ErsBase() ersBase: string): Bundle {
    return this.tasks.search(query, ersBase);
  }
}
