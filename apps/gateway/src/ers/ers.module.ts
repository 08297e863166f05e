import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { ErsClientModule, ErsForwarder } from '@libs/ers-client';

function tlsOf(config: GatewayConfig): { cert?: Buffer; key?: Buffer; ca?: Buffer } | null {
  const tls = config.ers.tls;
  if (tls === null) return null;
  return {
    ...(tls.cert === null ? {} : { cert: tls.cert }),
    ...(tls.key === null ? {} : { key: tls.key }),
    ...(tls.ca === null ? {} : { ca: tls.ca }),
  };
}

class ForwarderLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ErsForwarder) private readonly forwarder: ErsForwarder) {}
  async onApplicationShutdown(): Promise<void> {
    await this.forwarder.close();
  }
}

/** The two ways the gateway talks to e-RS: session calls (axios) and the proxy (undici). */
@Module({
  imports: [
    ErsClientModule.forRootAsync({
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => ({
        baseUrl: config.ers.baseUrl,
        asid: config.ers.asid,
        timeoutMs: config.ers.sessionTimeoutMs,
        loginConcurrency: config.ers.loginConcurrency,
        closeConcurrency: config.ers.closeConcurrency,
        tls: tlsOf(config) ?? undefined,
      }),
    }),
  ],
  providers: [
    {
      provide: ErsForwarder,
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) =>
        new ErsForwarder({
          baseUrl: config.ers.baseUrl,
          asid: config.ers.asid,
          timeoutMs: config.ers.timeoutMs,
          maxConnections: config.ers.maxConnections,
          tls: tlsOf(config),
        }),
    },
    ForwarderLifecycle,
  ],
  exports: [ErsClientModule, ErsForwarder],
})
export class ErsModule {}
