import { Controller, Get, Injectable } from '@nestjs/common';
import { ApiExcludeController, type OpenAPIObject } from '@nestjs/swagger';

/** Holds the document built from the code at start-up (see `buildOpenApiDocument`). */
@Injectable()
export class OpenApiDocument {
  document: OpenAPIObject | null = null;
}

@ApiExcludeController()
@Controller('openapi.json')
export class OpenApiController {
  constructor(private readonly holder: OpenApiDocument) {}

  @Get()
  serve(): OpenAPIObject | null {
    return this.holder.document;
  }
}
