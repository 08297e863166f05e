import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AppointmentsModule } from './appointments/appointments.module';
import { BinaryModule } from './binary/binary.module';
import { SandboxConfigModule } from './config/sandbox-config.module';
import type { SandboxConfig } from './config/sandbox-config';
import { ControlModule } from './control/control.module';
import { ErsEdgeModule } from './ers-edge/ers-edge.module';
import { HealthcareServicesModule } from './healthcare-services/healthcare-services.module';
import { IdentityAgentModule } from './identity-agent/identity-agent.module';
import { ProfessionalSessionModule } from './professional-session/professional-session.module';
import { ReferenceDataModule } from './reference-data/reference-data.module';
import { ReferralsModule } from './referrals/referrals.module';
import { SandboxExceptionFilter } from './sandbox-exception.filter';
import { StateModule } from './state/state.module';
import { TasksModule } from './tasks/tasks.module';
import { WorklistModule } from './worklist/worklist.module';

/** The sandbox: e-RS under `/ers-api`, controls under `/_sandbox`. Only imports features. */
@Module({})
export class SandboxModule {
  static forRoot(config: SandboxConfig): DynamicModule {
    return {
      module: SandboxModule,
      imports: [
        SandboxConfigModule.forRoot(config),
        StateModule,
        ErsEdgeModule,
        ProfessionalSessionModule,
        ReferenceDataModule,
        ReferralsModule,
        BinaryModule,
        WorklistModule,
        HealthcareServicesModule,
        AppointmentsModule,
        TasksModule,
        IdentityAgentModule,
        ControlModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: SandboxExceptionFilter }],
    };
  }
}
