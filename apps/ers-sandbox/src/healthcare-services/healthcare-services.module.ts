import { Module } from '@nestjs/common';
import { HealthcareServicesController } from './healthcare-services.controller';
import { HealthcareServicesService } from './healthcare-services.service';

/** A010 service search. */
@Module({ controllers: [HealthcareServicesController], providers: [HealthcareServicesService] })
export class HealthcareServicesModule {}
