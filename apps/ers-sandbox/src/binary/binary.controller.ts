import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, StreamableFile } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import { CLINICAL_ROLES, ErsBusinessEndpoint, STU3_PREFIX } from '../ers-edge/ers-route';
import { BinaryService } from './binary.service';
import { contentDisposition } from './content-disposition';

/** A020 metadata headers. Case does not matter (plain HTTP), but the underscore does. */
const FILE_NAME_HEADER = 'x-ers-xapi-meta-file_name';
const INTENDED_UBRN_HEADER = 'x-ers-xapi-meta-intended_ubrn';
const MAX_FILE_NAME_LENGTH = 255;

@Controller(STU3_PREFIX)
export class BinaryController {
  constructor(private readonly binaries: BinaryService) {}

  /** A006 Retrieve attachment: the bytes with their own media type, streamed. */
  @Get('Binary/:id')
  @ErsBusinessEndpoint('A006', CLINICAL_ROLES)
  download(@Param('id') id: string): StreamableFile {
    const binary = this.binaries.open(id);
    return new StreamableFile(binary.stream, {
      type: binary.contentType,
      length: binary.bytes,
      disposition: contentDisposition(binary.fileName),
    });
  }

  /** A020 Upload file: raw bytes, metadata in `X-ERS-XAPI-META-*`, `201` + `Location`. */
  @Post('Binary')
  @HttpCode(201)
  @ErsBusinessEndpoint('A020', CLINICAL_ROLES, { streamBody: true })
  async upload(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const fileName = request.headers[FILE_NAME_HEADER];
    // The A020 page: MISSING_VALUE when the file name is not supplied, INVALID_VALUE over 255 characters.
    if (typeof fileName !== 'string' || fileName.trim() === '') {
      throw ErsOutcomeError.unprocessable('MISSING_VALUE', 'X-ERS-XAPI-META-FILE_NAME is required');
    }
    if (fileName.length > MAX_FILE_NAME_LENGTH) {
      throw ErsOutcomeError.unprocessable('INVALID_VALUE', `The file name is longer than ${MAX_FILE_NAME_LENGTH} characters`);
    }
    const intendedUbrn = request.headers[INTENDED_UBRN_HEADER];
    const upload = await this.binaries.receive(body instanceof Readable ? body : undefined, {
      fileName,
      intendedUbrn: typeof intendedUbrn === 'string' ? intendedUbrn : null,
      contentType: request.headers['content-type'] ?? 'application/octet-stream',
    });
    reply.header('Location', `http://${request.headers.host ?? 'localhost'}/${STU3_PREFIX}/Binary/${upload.id}`);
  }
}
