/** Saving e-RS files (A006 attachments, the A007 PDF) from a fetch response. */
import { h } from './dom';

export const bytes = (size: number | null): string =>
  size === null ? 'unknown' : size < 1024 ? `${size} bytes` : size < 1024 * 1024 ? `${(size / 1024).toFixed(1)} KB` : `${(size / 1024 / 1024).toFixed(1)} MB`;

/** A file name from Content-Disposition (RFC 6266: filename* wins over filename). */
function fileName(disposition: string | null, fallback: string): string {
  if (disposition === null) return fallback;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (extended?.[1] !== undefined) {
    try {
      return decodeURIComponent(extended[1]);
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(disposition);
  return plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2] ?? fallback;
}

/** Hands a response body to the browser as a file download (the cookie cannot ride a plain link: every /api call needs X-CSRF). */
export async function saveAs(response: Response, fallback: string): Promise<{ name: string; size: number }> {
  const name = fileName(response.headers.get('content-disposition'), fallback);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: the download starts asynchronously from the object URL.
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}
