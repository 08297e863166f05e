import { Module } from '@nestjs/common';
import { ReferenceDataController } from './reference-data.controller';

/** A004 CodeSystems. */
@Module({ controllers: [ReferenceDataController] })
export class ReferenceDataModule {}
