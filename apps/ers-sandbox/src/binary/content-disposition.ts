/**
 * `attachment; filename="…"` with a safe ASCII fallback, plus RFC 5987 `filename*` when the
 * name is not plain ASCII (uploaded names can be anything).
 */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  if (ascii === fileName) return `attachment; filename="${ascii}"`;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
