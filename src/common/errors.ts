/**
 * The one error class of sshm. Every failure a user can cause surfaces as an SshmError with a
 * stable `code` (for scripts and tests) and a message that names where the problem is (file, line,
 * column, device-tree node or config key) and which rule was broken.
 */

/** Where in the user's input a problem lies. All fields optional; use what is known. */
export interface Where {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** Device-tree node path, e.g. "/chosen/domU1/shm@0". */
  readonly node?: string;
  /** Config key or property name, e.g. "static_shm[1].offset" or "xen,shared-mem". */
  readonly key?: string;
}

export function formatWhere(w: Where | undefined): string {
  if (!w) return "";
  const parts: string[] = [];
  if (w.file !== undefined) {
    let s = w.file;
    if (w.line !== undefined) s += `:${w.line}`;
    if (w.line !== undefined && w.column !== undefined) s += `:${w.column}`;
    parts.push(s);
  }
  if (w.node !== undefined) parts.push(`node ${w.node}`);
  if (w.key !== undefined) parts.push(`key ${w.key}`);
  return parts.join(", ");
}

export class SshmError extends Error {
  /** Stable, machine-readable code, e.g. "ERANGE_OUTSIDE_RAM", "EDTS_SYNTAX". */
  readonly code: string;
  readonly where: Where | undefined;

  constructor(code: string, message: string, where?: Where) {
    const loc = formatWhere(where);
    super(loc ? `${loc}: ${message}` : message);
    this.name = "SshmError";
    this.code = code;
    this.where = where;
  }
}

export function isSshmError(e: unknown): e is SshmError {
  return e instanceof SshmError;
}
