import { HttpModule } from '@nestjs/axios';
import {
  Inject,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { assertErsClientOptions, ErsClientOptions } from './ers-client.options';
import { ErsSessionClient } from './ers-session-client.port';
import { ERS_SESSION_LANES, type ErsSessionLanes, createErsSessionLanes } from './session-lanes';
import { ProfessionalSessionClient } from './professional-session.client';

export interface ErsClientModuleAsyncOptions<Args extends unknown[]> {
  imports?: ModuleMetadata['imports'];
  inject?: InjectionToken[];
  useFactory: (...args: Args) => ErsClientOptions | Promise<ErsClientOptions>;
}

/**
 * Holds the options and the lanes, shared by `HttpModule` and the client; closes the lanes' pools
 * last: at application shutdown (after Nest's module-destroy and before-shutdown hooks and the
 * HTTP server's close), once their calls in flight have ended. Keep-alive sockets would otherwise
 * hold the process open.
 */
@Module({})
class ErsClientCoreModule implements OnApplicationShutdown {
  constructor(@Inject(ERS_SESSION_LANES) private readonly lanes: ErsSessionLanes) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.lanes.logins.close(), this.lanes.closes.close(), this.lanes.checks.close()]);
  }
}

/**
 * The e-RS session client (A001/A002/A003) behind the `ErsSessionClient` token, on its own axios
 * instance with its own agent. `ErsClientOptions` is exported too.
 */
@Module({})
export class ErsClientModule {
  static forRoot(options: ErsClientOptions): DynamicModule {
    return ErsClientModule.build({ provide: ErsClientOptions, useValue: options }, []);
  }

  static forRootAsync<Args extends unknown[]>(async: ErsClientModuleAsyncOptions<Args>): DynamicModule {
    return ErsClientModule.build(
      {
        provide: ErsClientOptions,
        // Nest resolves `inject` into the factory's arguments; it cannot check them against Args.
        useFactory: async.useFactory as (...args: unknown[]) => ErsClientOptions | Promise<ErsClientOptions>,
        inject: async.inject ?? [],
      },
      async.imports ?? [],
    );
  }

  private static build(optionsProvider: Provider, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    // One object imported twice (here and by HttpModule) is one module instance for Nest.
    const core: DynamicModule = {
      module: ErsClientCoreModule,
      imports,
      providers: [
        optionsProvider,
        {
          provide: ERS_SESSION_LANES,
          useFactory: (options: ErsClientOptions): ErsSessionLanes => {
            assertErsClientOptions(options);
            return createErsSessionLanes(options);
          },
          inject: [ErsClientOptions],
        },
      ],
      exports: [ErsClientOptions, ERS_SESSION_LANES],
    };
    return {
      module: ErsClientModule,
      imports: [
        core,
        // Each call names its lane's agent (`ProfessionalSessionClient`); none is shared.
        HttpModule.register({ maxRedirects: 0, proxy: false }),
      ],
      providers: [
        ProfessionalSessionClient,
        { provide: ErsSessionClient, useExisting: ProfessionalSessionClient },
      ],
      exports: [ErsSessionClient, core],
    };
  }
}
