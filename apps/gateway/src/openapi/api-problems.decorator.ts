import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { PROBLEMS, type ProblemCode } from '../problem/problem-codes';

/** Documents the problems a route can answer with, grouped by status, in the OpenAPI document. */
export function ApiProblems(...codes: ProblemCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codes) {
    const status = PROBLEMS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, grouped]) =>
      ApiResponse({
        status,
        description: `problem+json with code ${grouped.map((code) => `\`${code}\``).join(', ')}`,
        content: {
          'application/problem+json': {
            schema: { $ref: '#/components/schemas/Problem' },
            examples: Object.fromEntries(
              grouped.map((code) => [code, { value: { code, status, title: PROBLEMS[code].title } }]),
            ),
          },
        },
      }),
    ),
  );
}
