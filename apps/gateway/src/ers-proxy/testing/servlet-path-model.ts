/**
 * How the Java servlet stacks e-RS may run on turn a raw request path into the path they route on,
 * for the property tests of `checkedErsPath`. A model, read from the sources and checked against a
 * Tomcat 11 build (UDecoder, CoyoteAdapter.parsePathParameters/normalize) on the cases below:
 *
 * - Tomcat (`apache/tomcat`, java/org/apache/catalina/connector/CoyoteAdapter.java,
 *   `postParseRequest`): raw `;params` are cut from every segment *before* percent-decoding (so
 *   `/a/..;/b` is `/a/../b`, then `/b`), then one pass of decoding (`%2F` rejected by default,
 *   `%5C` decoded then rejected as a backslash, `%25` kept encoded when either is passed through),
 *   then `//` merged and dot segments removed (`..` above the root: 400), bad UTF-8: 400 (10.1+).
 * - Jetty 12 in its most permissive compliance mode (`URIUtil.canonicalPath` before `%2F` splits).
 * - Spring MVC, which routes on its own reading of the raw URI (`UrlPathHelper`: parameters
 *   removed, decoded, `//` merged, no dot removal; `PathContainer`: per segment, no merging).
 *
 * `servletNormalise` gives the segments when every reading agrees, `rejected` when every stack
 * refuses the path (nothing reaches e-RS's handlers), and `ambiguous` when they disagree: a path
 * the gateway must not forward.
 */
export type Reading = string[] | 'rejected';
export type Normalised = string[] | 'rejected' | 'ambiguous';

const REJECTED = 'rejected' as const;
type Handling = 'reject' | 'decode' | 'pass';

const HEX2 = /^[0-9A-Fa-f]{2}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/** Tomcat's request-target check: what its HTTP parser refuses raw in a path. */
function tomcatRawOk(raw: string, allowBackslash: boolean): boolean {
  if (!raw.startsWith('/')) return false;
  for (const ch of raw) {
    const code = ch.codePointAt(0) as number;
    if (code <= 0x20 || code >= 0x7f || '"#<>^`{|}?'.includes(ch)) return false;
    if (ch === '\\' && !allowBackslash) return false;
  }
  return true;
}

/** Percent-decodes to bytes; `%2F` and `%5C` as their handling says; `%uXXXX` for Jetty. */
function percentBytes(text: string, solidus: Handling = 'decode', reverse: Handling = 'decode', utf16 = false): Uint8Array | typeof REJECTED {
  const out: number[] = [];
  const passPercent = solidus === 'pass' || reverse === 'pass';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '%') {
      out.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    if (utf16 && text[i + 1] === 'u') {
      const hex = text.slice(i + 2, i + 6);
      if (!HEX4.test(hex)) return REJECTED;
      out.push(...Buffer.from(String.fromCharCode(parseInt(hex, 16)), 'utf8'));
      i += 5;
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!HEX2.test(hex)) return REJECTED;
    const byte = parseInt(hex, 16);
    const handling: Handling = byte === 0x2f ? solidus : byte === 0x5c ? reverse : byte === 0x25 && passPercent ? 'pass' : 'decode';
    if (handling === 'reject') return REJECTED;
    if (handling === 'pass') out.push(...Buffer.from(`%${hex}`));
    else out.push(byte);
    i += 2;
  }
  return Uint8Array.from(out);
}

/** UTF-8 text; null when `strict` and the bytes are not UTF-8 (lenient decoding puts U+FFFD instead). */
function utf8(bytes: Uint8Array, strict = false): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: strict }).decode(bytes);
  } catch {
    return null;
  }
}

/** Tomcat's `parsePathParameters`, Spring's `removeSemicolonContent`, Jetty's parameter stripping. */
const stripParameters = (path: string): string => path.replace(/;[^/]*/g, '');

/** RFC 3986 dot-segment removal over a segment list; `..` above the root is refused. */
function removeDots(segments: string[], trailingDotKeepsSlash: boolean): Reading {
  const out: string[] = [];
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '.') {
      if (last && trailingDotKeepsSlash) out.push('');
      return;
    }
    if (segment === '..') {
      if (out.length === 0) throw new AboveRoot();
      out.pop();
      if (last && trailingDotKeepsSlash) out.push('');
      return;
    }
    out.push(segment);
  });
  return out.length > 0 ? out : [''];
}

class AboveRoot extends Error {}

interface TomcatOptions {
  solidus?: Handling;
  reverse?: Handling;
  allowBackslash?: boolean;
  strictUtf8?: boolean;
  /** Tomcat 9 keeps the slash after a trailing `/.` or `/..`. */
  v9?: boolean;
}

export function tomcat(rawTarget: string, options: TomcatOptions = {}): Reading {
  const { solidus = 'reject', reverse = 'decode', allowBackslash = false, strictUtf8 = true, v9 = false } = options;
  if (rawTarget.includes('#')) return REJECTED;
  const raw = rawTarget.split('?')[0] as string;
  if (!tomcatRawOk(raw, allowBackslash)) return REJECTED;
  const bytes = percentBytes(stripParameters(raw), solidus, reverse);
  if (bytes === REJECTED) return REJECTED;
  let text = utf8(bytes, strictUtf8);
  if (text === null || text.includes('\0')) return REJECTED;
  if (text.includes('\\')) {
    if (!allowBackslash) return REJECTED;
    text = text.replaceAll('\\', '/');
  }
  text = text.replace(/\/{2,}/g, '/');
  return guarded(() => removeDots(text.slice(1).split('/'), v9));
}

/** Jetty 12, most permissive: dots removed before `%2F` splits, `//` not merged. */
export function jetty(path: string): Reading {
  const stripped = stripParameters(path);
  const all = percentBytes(stripped, 'decode', 'decode', true);
  if (all === REJECTED || all.includes(0)) return REJECTED;
  const segments: string[] = [];
  for (const segment of stripped.slice(1).split('/')) {
    const bytes = percentBytes(segment, 'decode', 'decode', true);
    if (bytes === REJECTED) return REJECTED;
    segments.push(utf8(bytes) ?? '');
  }
  return guarded(() => {
    const removed = removeDots(segments, true);
    return removed === REJECTED ? REJECTED : removed.join('/').split('/');
  });
}

/** Spring MVC's `UrlPathHelper` lookup path (the DispatcherServlet mapped to `/`). */
export function springUrlPathHelper(path: string): Reading {
  const bytes = percentBytes(stripParameters(path));
  if (bytes === REJECTED) return REJECTED;
  return (utf8(bytes) ?? '').replace(/\/{2,}/g, '/').slice(1).split('/');
}

/** Spring's `PathContainer` (path patterns): per raw segment, parameters cut, decoded. */
export function springPathContainer(path: string): Reading {
  const out: string[] = [];
  for (const segment of path.slice(1).split('/')) {
    const bytes = percentBytes(segment.split(';')[0] as string);
    if (bytes === REJECTED) return REJECTED;
    out.push(utf8(bytes) ?? '');
  }
  return out;
}

function guarded(read: () => Reading): Reading {
  try {
    return read();
  } catch (error) {
    if (error instanceof AboveRoot) return REJECTED;
    throw error;
  }
}

export function servletReadings(rawTarget: string): Reading[] {
  const path = rawTarget.split(/[?#]/)[0] as string;
  const containers = [
    tomcat(rawTarget),
    tomcat(rawTarget, { v9: true, strictUtf8: false }),
    tomcat(rawTarget, { solidus: 'decode', reverse: 'decode', allowBackslash: true, strictUtf8: false }),
    tomcat(rawTarget, { solidus: 'pass', reverse: 'pass' }),
    jetty(path),
  ];
  // Spring only sees what a container accepted; it reads the raw URI again itself.
  const spring = containers.some((reading) => reading !== REJECTED) ? [springUrlPathHelper(path), springPathContainer(path)] : [];
  return [...containers, ...spring];
}

export function servletNormalise(rawTarget: string): Normalised {
  const accepted = new Set(servletReadings(rawTarget).filter((reading) => reading !== REJECTED).map((reading) => JSON.stringify(reading)));
  if (accepted.size === 0) return REJECTED;
  if (accepted.size > 1) return 'ambiguous';
  return JSON.parse([...accepted][0] as string) as string[];
}
