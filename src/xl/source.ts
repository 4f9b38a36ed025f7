/**
 * Source locations and the error constructors shared by the xl front-end.
 *
 * Every xl error is an SshmError whose `where` carries file, line and column, so the message
 * starts with "file:line:column: " exactly like compiler diagnostics. The codes are stable:
 * scripts and tests match on them, never on the message text.
 */

import { SshmError } from "../common/errors.js";

/** A position in a config file. Lines and columns are 1-based; columns count UTF-16 code units. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Stable error codes of the xl front-end. */
export const XL_CODES = {
  /** Lexical or grammatical error in the config file (libxlu "config parsing error"). */
  syntax: "EXL_SYNTAX",
  /** A setting has the wrong shape or value (list vs single value, not a number, ...). */
  value: "EXL_VALUE",
  /** A mandatory setting is missing (name). */
  missing: "EXL_MISSING",
  /** `type` names an unknown type, or one Arm does not support. */
  type: "EXL_TYPE",
  /** memory/maxmem/vcpus out of what an Arm guest can have. */
  memory: "EXL_MEMORY",
  /** SSHM_SPEC string is not a sequence of key=value pairs. */
  sshmSyntax: "ESSHM_SYNTAX",
  /** SSHM_SPEC key not one of id, begin, size, offset, role, prot, cache_policy. */
  sshmUnknownKey: "ESSHM_UNKNOWN_KEY",
  /** SSHM_SPEC key given twice in one spec. */
  sshmRespecified: "ESSHM_RESPECIFIED",
  /** SSHM_SPEC mandatory key (id, begin, size) absent. */
  sshmMissing: "ESSHM_MISSING",
  /** Bad id: charset or length. */
  sshmId: "ESSHM_ID",
  /** Bad number for begin/size/offset. */
  sshmNumber: "ESSHM_NUMBER",
  /** begin/size/offset not a multiple of 4 KiB. */
  sshmAlign: "ESSHM_ALIGN",
  /** size is zero. */
  sshmZeroSize: "ESSHM_ZERO_SIZE",
  /** Region or offset beyond the 52-bit Arm guest physical address space. */
  sshmRange: "ESSHM_RANGE",
  /** Bad role value. */
  sshmRole: "ESSHM_ROLE",
  /** Bad prot value. */
  sshmProt: "ESSHM_PROT",
  /** Bad cache_policy value, or one not supported on Arm. */
  sshmCachePolicy: "ESSHM_CACHE_POLICY",
  /** A key given for the wrong role (offset on an owner, cache_policy on a borrower). */
  sshmRoleKey: "ESSHM_ROLE_KEY",
  /** The same id twice in one config file. */
  sshmDuplicateId: "ESSHM_DUPLICATE_ID",
  /** Two borrower ranges of one config overlap. */
  sshmOverlap: "ESSHM_OVERLAP",
} as const;

export type XlErrorCode = (typeof XL_CODES)[keyof typeof XL_CODES];

export function xlError(code: XlErrorCode, message: string, loc: SourceLoc): SshmError {
  return new SshmError(code, message, { file: loc.file, line: loc.line, column: loc.column });
}

export function formatLoc(loc: SourceLoc): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}
