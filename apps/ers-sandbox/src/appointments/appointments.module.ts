import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { AppointmentsController } from './appointments.controller';
import { AppointmentsService } from './appointments.service';

/** A016 booking. */
@Module({ imports: [StateModule], controllers: [AppointmentsController], providers: [AppointmentsService] })
export class AppointmentsModule {}
