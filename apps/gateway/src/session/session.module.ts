import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ErsModule } from '../ers/ers.module';
import { MetricsModule } from '../metrics/metrics.module';
import { StoreModule } from '../store/store.module';
import { UpstreamCloseService } from '../upstream-close/upstream-close.service';
import { ErsSessionStrategy } from './ers-session.strategy';
import { JsonBodyGuard } from './json-body.guard';
import { LoginThrottle } from './login-throttle';
import { SessionCookie } from './session-cookie';
import { SessionController } from './session.controller';
import { SessionService } from './session.service';
import { SmartcardStrategy } from './smartcard.strategy';

/** Login, role choice and logout; owns the cookie and the lifecycle of e-RS sessions. */
@Module({
  imports: [PassportModule, StoreModule, ErsModule, MetricsModule],
  controllers: [SessionController],
  providers: [SessionService, SessionCookie, SmartcardStrategy, ErsSessionStrategy, JsonBodyGuard, LoginThrottle, UpstreamCloseService],
  // The close worker is one per process: the admin API records the sessions it ends with it too.
  exports: [SessionService, SessionCookie, UpstreamCloseService],
})
export class SessionModule {}
