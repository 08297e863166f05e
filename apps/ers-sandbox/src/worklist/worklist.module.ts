import { Module } from '@nestjs/common';
import { WorklistController } from './worklist.controller';
import { WorklistService } from './worklist.service';

/** A008 provider worklists. */
@Module({ controllers: [WorklistController], providers: [WorklistService] })
export class WorklistModule {}
