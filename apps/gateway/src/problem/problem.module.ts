import { Module } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { AnswerHeaders } from '../front-door/exchange';
import { MetricsModule } from '../metrics/metrics.module';
import { ProblemFilter } from './problem.filter';
import { ProblemWriter } from './problem-writer';

/** How every answer starts (`AnswerHeaders`) and the one writer of problem answers. */
@Module({
  imports: [MetricsModule],
  providers: [
    { provide: AnswerHeaders, inject: [GatewayConfig], useFactory: (config: GatewayConfig) => new AnswerHeaders(config.cookie.secure) },
    ProblemWriter,
    ProblemFilter,
  ],
  exports: [AnswerHeaders, ProblemWriter, ProblemFilter],
})
export class ProblemModule {}
