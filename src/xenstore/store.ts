/**
 * An in-memory xenstore with xenstored's semantics for the operations the toolstack uses: WRITE
 * creates missing parents with empty values, MKDIR leaves existing nodes alone, RM is recursive and
 * succeeds on a missing node whose parent exists, DIRECTORY lists children in creation order, and
 * every node carries a permission list. Single-threaded, so a transaction never has to retry
 * (xenstored's EAGAIN cannot happen): `transaction(fn)` is all-or-nothing by snapshot.
 */

import { SshmError } from "../common/errors.js";
import { joinPath, splitPath, validatePath, XENSTORE_PAYLOAD_MAX } from "./path.js";

/** One xenstore permission entry: "n" none, "r" read, "w" write, "b" both. */
export type XsAccess = "n" | "r" | "w" | "b";

/**
 * A permission entry as xenstored keeps it. The first entry of a node's list names the owner
 * (who always has full access) and the access of every domain not listed; later entries grant
 * `access` to domain `id`.
 */
export interface XsPerm {
  readonly id: number;
  readonly access: XsAccess;
}

/** "n0", "r5", "b1": the wire/`xenstore-ls -p` form (xenstore_perm_to_string). */
export function permToString(p: XsPerm): string {
  return `${p.access}${p.id}`;
}

/** Parse "n0"/"r5"/"w3"/"b1" back into an entry. */
export function parsePerm(s: string): XsPerm {
  const m = /^([nrwb])(\d+)$/.exec(s);
  if (!m)
    throw new SshmError("EXS_PERMS", `xenstore permission "${s}": expected n|r|w|b followed by a domid`);
  const id = Number(m[2]);
  checkDomid(id, s);
  return { id, access: m[1] as XsAccess };
}

function checkDomid(id: number, what: string): void {
  // <domid> on the wire is "decimal 0..65535" (xenstore.txt).
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) {
    throw new SshmError("EXS_PERMS", `xenstore permission ${what}: domid ${id} is not in 0..65535`);
  }
}

/** The permission list xenstored gives the root at start-up: owned by dom0, nobody else. */
export const ROOT_PERMS: readonly XsPerm[] = [{ id: 0, access: "n" }];

interface XsNode {
  value: string;
  perms: XsPerm[];
  /** Children by name; a Map keeps insertion order, which is xenstored's creation order. */
  children: Map<string, XsNode>;
}

function newNode(perms: readonly XsPerm[]): XsNode {
  return { value: "", perms: perms.map((p) => ({ ...p })), children: new Map() };
}

function cloneNode(n: XsNode): XsNode {
  const c: XsNode = { value: n.value, perms: n.perms.map((p) => ({ ...p })), children: new Map() };
  for (const [k, v] of n.children) c.children.set(k, cloneNode(v));
  return c;
}

/** One node in tree order, as `entries()` and `toJSON()` report it. */
export interface XsEntry {
  path: string;
  value: string;
  perms: string[];
}

export interface XenstoreLsOptions {
  /** Append the permission list, as `xenstore-ls -p` does. */
  perms?: boolean;
}

const utf8 = new TextEncoder();

/**
 * xenstore-ls's `sanitise_value`: printable ASCII except backslash is kept; \t \n \r and backslash
 * get C escapes; bytes below 010 become a 3-digit octal escape and every other byte \xNN. Note that
 * '"' is NOT escaped, so a value containing a quote prints ambiguously, exactly as the real tool.
 * Values are UTF-8 encoded first because xenstore stores bytes.
 */
export function sanitiseValue(value: string): string {
  let out = "";
  for (const c of utf8.encode(value)) {
    if (c >= 0x20 && c <= 0x7e && c !== 0x5c) out += String.fromCharCode(c);
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x5c) out += "\\\\";
    else if (c < 0o10) out += `\\${c.toString(8).padStart(3, "0")}`;
    else out += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return out;
}

export class XenStore {
  private root: XsNode = newNode(ROOT_PERMS);

  /** The node at `path`, or undefined. Validates the path. */
  private lookup(path: string): XsNode | undefined {
    let n: XsNode | undefined = this.root;
    for (const part of splitPath(path)) {
      n = n.children.get(part);
      if (!n) return undefined;
    }
    return n;
  }

  private mustLookup(path: string, op: string): XsNode {
    const n = this.lookup(path);
    if (!n) throw new SshmError("EXS_ENOENT", `xenstore ${op} ${path}: no such node (ENOENT)`);
    return n;
  }

  /**
   * Walk to `path`, creating each missing node with an empty value. A new node inherits its
   * parent's permission list, as xenstored's construct_node does for the privileged toolstack.
   */
  private create(path: string): XsNode {
    let n = this.root;
    for (const part of splitPath(path)) {
      let c = n.children.get(part);
      if (!c) {
        c = newNode(n.perms);
        n.children.set(part, c);
      }
      n = c;
    }
    return n;
  }

  /** WRITE: store `value` at `path`, creating missing parents with empty values. */
  write(path: string, value: string): void {
    validatePath(path);
    // One WRITE message carries "<path>\0<value>"; xenstored refuses a longer payload.
    const len = path.length + 1 + utf8.encode(value).length;
    if (len > XENSTORE_PAYLOAD_MAX) {
      throw new SshmError(
        "EXS_E2BIG",
        `xenstore write ${path}: path and value take ${len} bytes, more than XENSTORE_PAYLOAD_MAX (${XENSTORE_PAYLOAD_MAX})`,
      );
    }
    this.create(path).value = value;
  }

  /** READ: the value, or undefined when the node does not exist. */
  read(path: string): string | undefined {
    return this.lookup(path)?.value;
  }

  exists(path: string): boolean {
    return this.lookup(path) !== undefined;
  }

  /** MKDIR: make sure `path` exists; an existing node (and its value) is left unchanged. */
  mkdir(path: string): void {
    this.create(path);
  }

  /**
   * RM, recursive like `xenstore-rm`. xenstored's rule: removing a missing node is fine when its
   * parent exists (returns false here), but an error when the parent is missing too (ENOENT), and
   * the root can never be removed (EINVAL). Returns true when something was removed.
   */
  rm(path: string): boolean {
    const parts = splitPath(path);
    const last = parts.pop();
    if (last === undefined)
      throw new SshmError("EXS_EINVAL", "xenstore rm /: the root cannot be removed (EINVAL)");
    let parent: XsNode | undefined = this.root;
    for (const part of parts) {
      parent = parent.children.get(part);
      if (!parent) {
        throw new SshmError(
          "EXS_ENOENT",
          `xenstore rm ${path}: neither the node nor its parent exists (ENOENT)`,
        );
      }
    }
    return parent.children.delete(last);
  }

  /** DIRECTORY: the children's names in creation order. ENOENT for a missing node. */
  directory(path: string): string[] {
    return [...this.mustLookup(path, "directory").children.keys()];
  }

  /** GET_PERMS: a copy of the node's permission list. */
  getPerms(path: string): XsPerm[] {
    return this.mustLookup(path, "get-perms").perms.map((p) => ({ ...p }));
  }

  /**
   * SET_PERMS: replace the node's permission list (first entry = owner and default access).
   * Permissions are recorded, not enforced: every caller of this emulator is the toolstack in dom0,
   * which xenstored lets through anyway.
   */
  setPerms(path: string, perms: readonly XsPerm[]): void {
    const n = this.mustLookup(path, "set-perms");
    if (perms.length === 0) {
      throw new SshmError(
        "EXS_PERMS",
        `xenstore set-perms ${path}: a permission list needs at least the owner entry`,
      );
    }
    for (const p of perms) checkDomid(p.id, permToString(p));
    n.perms = perms.map((p) => ({ ...p }));
  }

  /**
   * Run `fn` all-or-nothing: if it throws, the store is put back exactly as it was and the error
   * propagates. Nested transactions nest naturally (each keeps its own snapshot).
   */
  transaction<T>(fn: (xs: XenStore) => T): T {
    const snapshot = cloneNode(this.root);
    try {
      return fn(this);
    } catch (e) {
      this.root = snapshot;
      throw e;
    }
  }

  /** Every node strictly below `path`, in tree order (parent first, children in creation order). */
  entries(path = "/"): XsEntry[] {
    const start = this.mustLookup(path, "ls");
    const out: XsEntry[] = [];
    const walk = (p: string, n: XsNode): void => {
      for (const [name, c] of n.children) {
        const cp = joinPath(p, name);
        out.push({ path: cp, value: c.value, perms: c.perms.map(permToString) });
        walk(cp, c);
      }
    };
    walk(path, start);
    return out;
  }

  /**
   * What `xenstore-ls -f [-p] <path>` prints when stdout is not a terminal (on a tty the real tool
   * truncates long lines to the window width). Like the tool: the node given is not itself
   * printed, every descendant is, empty intermediate nodes included (`/local = ""`), each line is
   * `full/path = "value"` with the value sanitised; with -p the perms follow after three spaces
   * in parentheses, comma-separated.
   */
  xenstoreLs(path = "/", opts: XenstoreLsOptions = {}): string {
    let out = "";
    for (const e of this.entries(path)) {
      out += `${e.path} = "${sanitiseValue(e.value)}"`;
      if (opts.perms) out += `   (${e.perms.join(",")})`;
      out += "\n";
    }
    return out;
  }

  /** The CLI's --json form: every node below the root, flat, in tree order. */
  toJSON(): XsEntry[] {
    return this.entries("/");
  }
}

/** Free-function form of `XenStore.xenstoreLs`. */
export function xenstoreLs(xs: XenStore, path = "/", opts: XenstoreLsOptions = {}): string {
  validatePath(path);
  return xs.xenstoreLs(path, opts);
}
