import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import {
  binaryByteLength,
  binaryChunks,
  binaryFixture,
  BINARY_CHUNK_BYTES,
  FIVE_MIB,
  type BinaryFixture,
} from '../fixtures/binaries';
import { HoldGate } from '../state/hold-gate';
import { UploadRegistry, type Upload } from '../state/upload-registry';

/** A020 limit: e-RS says "≤ 5 MB"; the sandbox reads it as 5 MiB (5,242,880 bytes) inclusive. */
export const MAX_UPLOAD_BYTES = FIVE_MIB;

export interface BinaryDownload {
  stream: Readable;
  contentType: string;
  bytes: number;
  fileName: string;
}

@Injectable()
export class BinaryService {
  constructor(
    private readonly uploads: UploadRegistry,
    private readonly holds: HoldGate,
  ) {}

  /** A006: a fixture attachment (streamed, never whole in memory) or a completed upload. */
  open(id: string): BinaryDownload {
    const fixture = binaryFixture(id);
    if (fixture !== undefined) {
      return {
        stream: Readable.from(this.chunks(fixture), { objectMode: false }),
        contentType: fixture.contentType,
        bytes: binaryByteLength(fixture),
        fileName: fixture.fileName,
      };
    }
    const upload = this.uploads.find(id);
    if (upload?.state !== 'complete' || upload.data === null) throw ErsOutcomeError.notFound(`No Binary ${id}`);
    return {
      stream: Readable.from([upload.data], { objectMode: false }),
      contentType: upload.contentType,
      bytes: upload.bytes,
      fileName: upload.fileName,
    };
  }

  /**
   * A020: reads the body as it arrives, so `/_sandbox/uploads` shows the bytes received so far
   * (the proof that a gateway streams uploads). Past the limit the rest is still read (and
   * hashed) so that the 422 reaches a client that is still sending.
   */
  async receive(body: Readable | undefined, meta: Pick<Upload, 'fileName' | 'intendedUbrn' | 'contentType'>): Promise<Upload> {
    const upload = this.uploads.start(meta);
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    try {
      for await (const chunk of body ?? []) {
        const buffer = chunk as Buffer;
        upload.bytes += buffer.length;
        hash.update(buffer);
        if (upload.bytes <= MAX_UPLOAD_BYTES) kept.push(buffer);
      }
    } catch (error) {
      upload.state = 'aborted';
      throw error;
    }
    upload.sha256 = hash.digest('hex');
    if (upload.bytes > MAX_UPLOAD_BYTES) {
      upload.state = 'rejected';
      // The A020 page: 422 FILE_SIZE_ERROR, "The file is too large; the max size is 5MB".
      throw ErsOutcomeError.unprocessable('FILE_SIZE_ERROR', `The file is ${upload.bytes} bytes; the limit is ${MAX_UPLOAD_BYTES} bytes`);
    }
    if (upload.bytes === 0) {
      upload.state = 'rejected';
      // The A020 page: MISSING_VALUE when "the file data are not supplied".
      throw ErsOutcomeError.unprocessable('MISSING_VALUE', 'The file data are not supplied');
    }
    upload.data = Buffer.concat(kept);
    upload.state = 'complete';
    return upload;
  }

  /** `att-hold` sends its first chunk, then waits for `POST /_sandbox/holds/release`. */
  private async *chunks(fixture: BinaryFixture): AsyncGenerator<Buffer> {
    let sent = 0;
    let held = fixture.holdAfterBytes === undefined;
    for (const chunk of binaryChunks(fixture)) {
      yield chunk;
      sent += chunk.length;
      if (!held && sent >= (fixture.holdAfterBytes ?? BINARY_CHUNK_BYTES)) {
        held = true;
        await this.holds.wait();
      }
    }
  }
}
