import { Module } from '@nestjs/common';
import { HealthcareServicesController } from './healthcare-services.controller';

/** A010 service search. */
@Module({ controllers: [HealthcareServicesController] })
export class HealthcareServicesModule {}
