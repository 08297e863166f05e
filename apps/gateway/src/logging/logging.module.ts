import { type DynamicModule, Module } from '@nestjs/common';
import { GatewayLogger } from './logger';

@Module({})
export class LoggingModule {
  static forRoot(logger: GatewayLogger): DynamicModule {
    return {
      module: LoggingModule,
      global: true,
      providers: [{ provide: GatewayLogger, useValue: logger }],
      exports: [GatewayLogger],
    };
  }
}
