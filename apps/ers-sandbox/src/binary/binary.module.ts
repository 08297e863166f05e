import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { BinaryController } from './binary.controller';
import { BinaryService } from './binary.service';

/** A006 download attachment, A020 upload file. */
@Module({ imports: [StateModule], controllers: [BinaryController], providers: [BinaryService] })
export class BinaryModule {}
