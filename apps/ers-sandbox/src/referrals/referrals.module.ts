import { Module } from '@nestjs/common';
import { ReferralsController } from './referrals.controller';
import { ReferralsService } from './referrals.service';

/** A005 retrieve referral, A007 clinical referral information. */
@Module({ controllers: [ReferralsController], providers: [ReferralsService] })
export class ReferralsModule {}
