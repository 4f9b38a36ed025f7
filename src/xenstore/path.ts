/**
 * Xenstore path rules, as xenstored enforces them (tools/xenstored/core.c `canonicalize`,
 * `valid_chars`) and docs/misc/xenstore.txt states them. The emulator only takes absolute paths:
 * the toolstack (dom0, a socket client) always writes absolute ones, and relative paths only mean
 * something for a guest's own connection.
 *
 * Deliberately NOT allowed: ".". xenstored's `valid_chars` is exactly A-Z a-z 0-9 and "-/_@", and
 * xenstore.txt lists the same four punctuation characters, so a path with a dot is EINVAL there.
 */

import { SshmError } from "../common/errors.js";

/** XENSTORE_ABS_PATH_MAX (xs_wire.h): the longest absolute path, in bytes, NUL excluded. */
export const XENSTORE_ABS_PATH_MAX = 3072;
/** XENSTORE_PAYLOAD_MAX (xs_wire.h): one message's payload; a WRITE carries path, NUL and value. */
export const XENSTORE_PAYLOAD_MAX = 4096;

const VALID_CHAR = /^[A-Za-z0-9\-/_@]$/;

/** Paths in messages: long ones are cut so an error stays one readable line. */
function shown(path: string): string {
  return path.length > 80
    ? `${JSON.stringify(path.slice(0, 60))}... (${path.length} bytes)`
    : JSON.stringify(path);
}

function bad(path: string, rule: string): SshmError {
  return new SshmError("EXS_PATH", `xenstore path ${shown(path)}: ${rule}`);
}

/**
 * Throw an SshmError (code EXS_PATH) naming the path and the broken rule unless `path` is a valid
 * absolute xenstore path. Checks run in xenstored's order: characters, then the shape, then length.
 */
export function validatePath(path: string): void {
  if (path.length === 0) throw bad(path, "the empty path is forbidden");
  for (let i = 0; i < path.length; i++) {
    const c = path.charAt(i);
    if (!VALID_CHAR.test(c)) {
      const what =
        c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e
          ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
          : c;
      throw bad(path, `character "${what}" at offset ${i} is not allowed (only A-Z a-z 0-9 - / _ @)`);
    }
  }
  if (path[0] !== "/") throw bad(path, 'must be absolute (start with "/")');
  if (path.length > 1 && path.endsWith("/"))
    throw bad(path, 'a trailing "/" is forbidden (except for the root "/")');
  if (path.includes("//")) throw bad(path, 'a doubled "/" (empty component) is forbidden');
  // Only ASCII passed the character check, so the string length is the byte length.
  if (path.length > XENSTORE_ABS_PATH_MAX) {
    throw bad(path, `longer than ${XENSTORE_ABS_PATH_MAX} bytes (XENSTORE_ABS_PATH_MAX)`);
  }
}

/** Components of a valid absolute path; [] for the root. */
export function splitPath(path: string): string[] {
  validatePath(path);
  return path === "/" ? [] : path.slice(1).split("/");
}

/** Join a parent path and a child name. */
export function joinPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}
