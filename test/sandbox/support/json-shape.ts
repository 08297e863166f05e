import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every structural path of a JSON value, values ignored and array indices collapsed:
 * `{"entry": [{"item": {"reference": "…"}}]}` gives `entry[].item.reference`. Two kinds of FHIR
 * array say what each item is, and their paths say it too, so that a value of the wrong type under
 * the right name shows: an `extension[]` item is named by its `url` (`extension[url=priority]`),
 * a `contained[]` item by its `resourceType` (`contained[Patient]`). An empty array or object is a
 * path of its own (`entry[]`, `meta{}`): FHIR JSON has neither.
 */
export function jsonPaths(value: unknown): Set<string> {
  const paths = new Set<string>();
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      if (node.length === 0) paths.add(`${path}[]`);
      for (const item of node) walk(item, `${path}[${discriminator(path, item)}]`);
    } else if (typeof node === 'object' && node !== null) {
      const entries = Object.entries(node);
      if (entries.length === 0) paths.add(`${path}{}`);
      for (const [key, child] of entries) walk(child, path === '' ? key : `${path}.${key}`);
    } else {
      paths.add(path);
    }
  };
  walk(value, '');
  return paths;
}

function discriminator(arrayPath: string, item: unknown): string {
  const record = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
  if (/(^|\.)extension$/.test(arrayPath) && typeof record['url'] === 'string') return `url=${record['url']}`;
  if (/(^|\.)contained$/.test(arrayPath) && typeof record['resourceType'] === 'string') return record['resourceType'];
  return '';
}

export const PUBLISHED_DIR = join(__dirname, '..', 'published');

/**
 * Two published examples are not valid JSON as published; SOURCES.md lists these repairs, the only
 * changes made before they are parsed (the files themselves are kept byte for byte).
 */
const REPAIRS: Record<string, (text: string) => string> = {
  // An unquoted string value.
  'A008_Response_ASI.json': (text) =>
    text.replace('"system": http://fhir.nhs.net/Id/sds-user-id,', '"system": "http://fhir.nhs.net/Id/sds-user-id",'),
  // The closing brace of the resource is missing.
  'A016_Response_BOOK.json': (text) => `${text.trimEnd()}\n}`,
};

/** A published example JSON from `test/sandbox/published/`, parsed. */
export function published<T = Record<string, unknown>>(file: string): T {
  const text = readFileSync(join(PUBLISHED_DIR, file), 'utf8');
  return JSON.parse(REPAIRS[file]?.(text) ?? text) as T;
}

/** The differences between two path sets, for a readable failure. */
export function pathDifference(live: Set<string>, expected: Set<string>): { extra: string[]; missing: string[] } {
  return {
    extra: [...live].filter((path) => !expected.has(path)).sort(),
    missing: [...expected].filter((path) => !live.has(path)).sort(),
  };
}
