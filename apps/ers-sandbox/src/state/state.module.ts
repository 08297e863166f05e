import { Module } from '@nestjs/common';
import { Delays } from './delays';
import { ErsSessionRegistry } from './ers-session-registry';
import { HoldGate } from './hold-gate';
import { RequestLog } from './request-log';
import { Switches } from './switches';
import { UploadRegistry } from './upload-registry';

/** The sandbox's in-memory state: one instance of each, shared by every feature. */
@Module({
  providers: [ErsSessionRegistry, RequestLog, UploadRegistry, Switches, HoldGate, Delays],
  exports: [ErsSessionRegistry, RequestLog, UploadRegistry, Switches, HoldGate, Delays],
})
export class StateModule {}
