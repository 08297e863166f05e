import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

export type UploadState = 'receiving' | 'complete' | 'rejected' | 'aborted';

/** An A020 upload: progress is visible while the bytes are still arriving. */
export interface Upload {
  id: string;
  fileName: string;
  intendedUbrn: string | null;
  contentType: string;
  /** Bytes received so far (all of them, also past the size limit). */
  bytes: number;
  /** sha256 (hex) of every byte received; null until the body has ended. */
  sha256: string | null;
  state: UploadState;
  startedAt: Date;
  /** Kept only for complete uploads, so that A006 can serve them back. */
  data: Buffer | null;
}

@Injectable()
export class UploadRegistry {
  private readonly uploads: Upload[] = [];

  start(meta: Pick<Upload, 'fileName' | 'intendedUbrn' | 'contentType'>): Upload {
    const upload: Upload = {
      id: `att-${randomUUID()}`,
      ...meta,
      bytes: 0,
      sha256: null,
      state: 'receiving',
      startedAt: new Date(),
      data: null,
    };
    this.uploads.push(upload);
    return upload;
  }

  find(id: string): Upload | undefined {
    return this.uploads.find((upload) => upload.id === id);
  }

  list(): readonly Upload[] {
    return this.uploads;
  }

  reset(): void {
    this.uploads.length = 0;
  }
}
