import { Module, type DynamicModule } from '@nestjs/common';
import { SANDBOX_CONFIG, type SandboxConfig } from './sandbox-config';

@Module({})
export class SandboxConfigModule {
  /**
   * Global on purpose, like `@nestjs/config`'s `isGlobal`: the validated configuration is a
   * read-only value every feature may need, and nothing else is provided here.
   */
  static forRoot(config: SandboxConfig): DynamicModule {
    return {
      module: SandboxConfigModule,
      global: true,
      providers: [{ provide: SANDBOX_CONFIG, useValue: Object.freeze({ ...config }) }],
      exports: [SANDBOX_CONFIG],
    };
  }
}
