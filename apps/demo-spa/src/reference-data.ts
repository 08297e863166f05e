/**
 * A004 reference data (SPECIALTY, CLINIC-TYPE), fetched once per page load and shared by every
 * screen: e-RS codes are shown by their display names, never as codes.
 */
import { type Code, type Concept, codeSystemUrl, concepts } from './fhir';
import { codeWords } from './display';

export type CodeSystemId = 'SPECIALTY' | 'CLINIC-TYPE';

export class CodeList {
  private readonly byCode: Map<string, Concept>;
  constructor(
    /** The CodeSystem's `url`: the system A010 expects specialty codes in. */
    readonly url: string,
    readonly concepts: readonly Concept[],
  ) {
    this.byCode = new Map(concepts.map((concept) => [concept.code, concept]));
  }

  /** The display name; a code the list does not know falls back to what e-RS sent. */
  text(value: Code): string {
    return this.byCode.get(value.code)?.display ?? fallbackText(value);
  }
}

/** For a role that may not call A004 (SERVICE_PROVIDER_ADMIN): e-RS's own display, else the code in words. */
export const fallbackText = (value: Code): string => value.display || codeWords(value.code);

export class ReferenceData {
  private readonly lists = new Map<CodeSystemId, Promise<CodeList>>();

  constructor(private readonly fetchJson: (path: string) => Promise<unknown>) {}

  get(id: CodeSystemId): Promise<CodeList> {
    let list = this.lists.get(id);
    if (list === undefined) {
      list = this.fetchJson(`STU3/v1/CodeSystem/${id}`).then((codeSystem) => new CodeList(codeSystemUrl(codeSystem), concepts(codeSystem)));
      // A failure is not cached: the next screen that needs the list asks again.
      list.catch(() => this.lists.delete(id));
      this.lists.set(id, list);
    }
    return list;
  }
}
