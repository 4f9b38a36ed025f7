/**
 * The static_shm records the xl toolstack keeps in xenstore (seed S000's xenstore-paths diff, with
 * the semantics of the 2019 libxl_sshm.c, reference §9.5-§9.6), minus that code's bugs:
 *
 *   /libxl/static_shm/<id>/{owner,begin,size,prot,cache_policy,usercnt}
 *   /libxl/static_shm/<id>/borrowers/<domid>/{begin,size,prot,offset}
 *   /local/domain/<domid>/static_shm/<id>/role = "owner" | "borrower"
 *
 * Value formats are libxl's: owner and usercnt decimal, addresses "0x%"PRIx64 (lowercase, no
 * padding), prot and cache_policy the lowercased enum names ("rw", "arm_normal").
 *
 * Bugs deliberately not copied (each is a test in test/xenstore):
 * - the owner domid is read back as decimal; FORK17/19 parsed it with base 16 ("12" -> 18), which
 *   `forkOwnerDomidReadback` reproduces so the hypervisor can warn about it;
 * - the existence checks work: a second owner gets "can only have one owner.", a borrower without
 *   owner "no owner found.", a repeated id "domain tried to map the same ID twice." (FORK19's
 *   libxl__xs_read_checked made all three unreachable).
 *
 * Every add is one transaction: it either writes all its records or none. The caller that maps
 * pages after `sshmBorrowerAdd` should run both inside `xs.transaction(...)` so that a failed map
 * leaves no records behind (FORK19 left them until destroy).
 */

import { DOMID_FIRST_RESERVED } from "../common/addr.js";
import { SshmError } from "../common/errors.js";
import { fmt0x } from "../common/format.js";
import type { XenStore, XsPerm } from "./store.js";

export const SSHM_ROOT = "/libxl/static_shm";
/** LIBXL_SSHM_ID_MAXLEN. */
export const SSHM_ID_MAXLEN = 128;
/** libxl__xs_mknod(..., noperm) on the id node: owned by dom0, no access for anyone else (§9.5). */
export const SSHM_NODE_PERMS: readonly XsPerm[] = [{ id: 0, access: "n" }];

export type SshmRole = "owner" | "borrower";
/** libxl_sshm_prot names, lowercased as libxl's _to_string writes them. Only rw exists. */
export type SshmProt = "rw";
/** libxl_sshm_cachepolicy names, lowercased. x86_normal is in the IDL but refused on Arm by libxl. */
export type SshmCachePolicy = "arm_normal" | "x86_normal";

export interface SshmOwnerAddArgs {
  id: string;
  ownerDomid: number;
  begin: number;
  size: number;
  prot?: SshmProt;
  cachePolicy?: SshmCachePolicy;
}

export interface SshmBorrowerAddArgs {
  id: string;
  domid: number;
  begin: number;
  size: number;
  offset?: number;
  prot?: SshmProt;
}

/** What the mapping step needs once a borrower's records are in. */
export interface SshmBorrowerAddResult {
  /** The owner domid, parsed as decimal (the fork parsed it as hex; see forkOwnerDomidReadback). */
  ownerDomid: number;
  /** The owner entry exactly as stored, for forkOwnerDomidReadback. */
  ownerRaw: string;
  ownerBegin: number;
  ownerSize: number;
  ownerProt: SshmProt;
  /** usercnt after this borrower was counted. */
  usercnt: number;
}

export interface SshmDelResult {
  role: SshmRole;
  /** usercnt after the decrement. */
  usercnt: number;
  /** True when usercnt reached 0 and /libxl/static_shm/<id> was removed. */
  recordRemoved: boolean;
}

export interface SshmBorrowerRecord {
  domid: number;
  begin: number;
  size: number;
  prot: string;
  offset: number;
}

export interface SshmRecord {
  id: string;
  owner: number;
  begin: number;
  size: number;
  prot: string;
  cachePolicy: string;
  usercnt: number;
  /** In creation order. */
  borrowers: SshmBorrowerRecord[];
  /** Every domain with a role for this id under /local/domain/<domid>/static_shm, by domid. */
  roles: { domid: number; role: string }[];
}

// ---- paths ----

export const sshmIdPath = (id: string): string => `${SSHM_ROOT}/${id}`;
export const sshmBorrowerPath = (id: string, domid: number): string =>
  `${SSHM_ROOT}/${id}/borrowers/${domid}`;
export const sshmDomainDir = (domid: number): string => `/local/domain/${domid}/static_shm`;
export const sshmRolePath = (id: string, domid: number): string => `${sshmDomainDir(domid)}/${id}/role`;

// ---- errors ----

/**
 * libxl logs these through LOGD with the SSHM_ERROR prefix, i.e.
 * "Domain <domid>:static_shm id = <id>: <message>"; keep that shape so the lines compare.
 */
function sshmError(code: string, domid: number, id: string, msg: string): SshmError {
  return new SshmError(code, `Domain ${domid}:static_shm id = ${id}: ${msg}`);
}

function checkId(id: string, domid: number): void {
  // S000 / LIBXL_SSHM_ID_MAXLEN: [_a-zA-Z0-9]+, at most 128 characters. The xl parser enforces this
  // too; checked here because the id becomes a xenstore path component.
  if (!/^[_a-zA-Z0-9]+$/.test(id) || id.length > SSHM_ID_MAXLEN) {
    throw sshmError(
      "ESSHM_ARG",
      domid,
      id,
      `invalid id (must be 1..${SSHM_ID_MAXLEN} characters of [_a-zA-Z0-9])`,
    );
  }
}

function checkDomid(domid: number, id: string): void {
  if (!Number.isInteger(domid) || domid < 0 || domid >= DOMID_FIRST_RESERVED) {
    throw sshmError("ESSHM_ARG", domid, id, `domid ${domid} is not a real domain id (0..0x7fef)`);
  }
}

function checkAddr(v: number, what: string, domid: number, id: string): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw sshmError("ESSHM_ARG", domid, id, `${what} ${v} is not a non-negative integer below 2^53`);
  }
}

// ---- value parsing (strict: these records are written only by this module) ----

function recordError(path: string, value: string | undefined, want: string): SshmError {
  return new SshmError(
    "ESSHM_RECORD",
    value === undefined
      ? `xenstore ${path}: missing (expected ${want})`
      : `xenstore ${path} = "${value}": expected ${want}`,
  );
}

function readDecimal(xs: XenStore, path: string): number {
  const v = xs.read(path);
  if (v === undefined || !/^(0|[1-9][0-9]*)$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw recordError(path, v, "a decimal integer");
  }
  return Number(v);
}

function readHex(xs: XenStore, path: string): number {
  const v = xs.read(path);
  if (v === undefined || !/^0x[0-9a-f]+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw recordError(path, v, '"0x" and lowercase hex digits');
  }
  return Number(v);
}

function readString(xs: XenStore, path: string): string {
  const v = xs.read(path);
  if (v === undefined) throw recordError(path, v, "a value");
  return v;
}

/**
 * What FORK17/FORK19 read back from the `owner` entry: strtoull(value, NULL, 16). The owner is
 * written in decimal, so any domid >= 10 resolves to another domain ("12" -> 0x12 = 18). Mirrors
 * strtoull's tolerance: leading whitespace, optional sign, optional "0x", stops at the first
 * non-hex character, 0 when nothing parses.
 */
export function forkOwnerDomidReadback(value: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]*)/.exec(value);
  const digits = m?.[2] ?? "";
  if (digits.length === 0) return 0;
  const n = Number.parseInt(digits, 16);
  return m?.[1] === "-" ? -n : n;
}

// ---- the operations ----

/**
 * Owner creation: the id node (perms {dom0, NONE}) with owner/begin/size/prot/cache_policy and
 * usercnt 1, and the owner's role. Fails with "can only have one owner." if the id is recorded.
 */
export function sshmOwnerAdd(xs: XenStore, args: SshmOwnerAddArgs): void {
  const { id, ownerDomid } = args;
  checkId(id, ownerDomid);
  checkDomid(ownerDomid, id);
  checkAddr(args.begin, "begin", ownerDomid, id);
  checkAddr(args.size, "size", ownerDomid, id);
  const prot = args.prot ?? "rw";
  const cachePolicy = args.cachePolicy ?? "arm_normal";
  xs.transaction(() => {
    const node = sshmIdPath(id);
    if (xs.exists(node)) throw sshmError("ESSHM_SECOND_OWNER", ownerDomid, id, "can only have one owner.");
    // The node is made first with its perms so that every entry below inherits them, as
    // libxl__xs_mknod followed by the writes does.
    xs.mkdir(node);
    xs.setPerms(node, SSHM_NODE_PERMS);
    xs.write(`${node}/owner`, String(ownerDomid));
    xs.write(`${node}/begin`, fmt0x(args.begin));
    xs.write(`${node}/size`, fmt0x(args.size));
    xs.write(`${node}/prot`, prot);
    xs.write(`${node}/cache_policy`, cachePolicy);
    xs.write(`${node}/usercnt`, "1");
    xs.write(sshmRolePath(id, ownerDomid), "owner");
  });
}

/**
 * Borrower creation: needs the id recorded ("no owner found.") and no earlier role of this domain
 * for the id ("domain tried to map the same ID twice."); writes borrowers/<domid>, usercnt + 1 and
 * the role, and returns the owner's side for the mapping step.
 */
export function sshmBorrowerAdd(xs: XenStore, args: SshmBorrowerAddArgs): SshmBorrowerAddResult {
  const { id, domid } = args;
  checkId(id, domid);
  checkDomid(domid, id);
  checkAddr(args.begin, "begin", domid, id);
  checkAddr(args.size, "size", domid, id);
  const offset = args.offset ?? 0;
  checkAddr(offset, "offset", domid, id);
  const prot = args.prot ?? "rw";
  return xs.transaction(() => {
    const node = sshmIdPath(id);
    if (!xs.exists(node)) throw sshmError("ESSHM_NO_OWNER", domid, id, "no owner found.");
    if (xs.exists(sshmRolePath(id, domid))) {
      throw sshmError("ESSHM_TWICE", domid, id, "domain tried to map the same ID twice.");
    }
    const ownerRaw = readString(xs, `${node}/owner`);
    const ownerDomid = readDecimal(xs, `${node}/owner`);
    const ownerBegin = readHex(xs, `${node}/begin`);
    const ownerSize = readHex(xs, `${node}/size`);
    const ownerProt = readString(xs, `${node}/prot`);
    if (ownerProt !== "rw") throw recordError(`${node}/prot`, ownerProt, '"rw"');
    const usercnt = readDecimal(xs, `${node}/usercnt`) + 1;

    const b = sshmBorrowerPath(id, domid);
    xs.write(`${b}/begin`, fmt0x(args.begin));
    xs.write(`${b}/size`, fmt0x(args.size));
    xs.write(`${b}/prot`, prot);
    xs.write(`${b}/offset`, fmt0x(offset));
    xs.write(`${node}/usercnt`, String(usercnt));
    xs.write(sshmRolePath(id, domid), "borrower");
    return { ownerDomid, ownerRaw, ownerBegin, ownerSize, ownerProt, usercnt };
  });
}

/** The role `domid` holds for `id`, or undefined. */
export function sshmRole(xs: XenStore, id: string, domid: number): SshmRole | undefined {
  const v = xs.read(sshmRolePath(id, domid));
  if (v === undefined) return undefined;
  if (v !== "owner" && v !== "borrower")
    throw recordError(sshmRolePath(id, domid), v, '"owner" or "borrower"');
  return v;
}

/**
 * Teardown of one domain's use of one id (libxl__sshm_del for one entry): a borrower's
 * borrowers/<domid> goes, every role does usercnt - 1 and loses its role node, and at usercnt 0
 * the whole /libxl/static_shm/<id> goes. An owner destroyed first only decrements: its borrowers
 * keep their entries (and, in the hypervisor, their mappings).
 */
export function sshmDel(xs: XenStore, args: { id: string; domid: number }): SshmDelResult {
  const { id, domid } = args;
  checkId(id, domid);
  checkDomid(domid, id);
  return xs.transaction(() => {
    const role = sshmRole(xs, id, domid);
    if (role === undefined) throw sshmError("ESSHM_NO_ROLE", domid, id, "domain has no role for this ID.");
    const node = sshmIdPath(id);
    if (!xs.exists(node)) throw recordError(node, undefined, "the record of a live role");
    if (role === "borrower") xs.rm(sshmBorrowerPath(id, domid));
    const usercnt = readDecimal(xs, `${node}/usercnt`) - 1;
    if (usercnt < 0) throw recordError(`${node}/usercnt`, "0", "a count of at least 1 while a role is live");
    xs.rm(`${sshmDomainDir(domid)}/${id}`);
    if (usercnt === 0) xs.rm(node);
    else xs.write(`${node}/usercnt`, String(usercnt));
    return { role, usercnt, recordRemoved: usercnt === 0 };
  });
}

/**
 * Teardown of every id a domain uses, in the order its roles were created (what
 * libxl__destroy_domid does by walking ~/static_shm). Returns one result per id.
 */
export function sshmDelAll(xs: XenStore, domid: number): { id: string; result: SshmDelResult }[] {
  const dir = sshmDomainDir(domid);
  if (!xs.exists(dir)) return [];
  return xs.transaction(() => xs.directory(dir).map((id) => ({ id, result: sshmDel(xs, { id, domid }) })));
}

/** A typed view of every record under /libxl/static_shm, ids in creation order. */
export function sshmList(xs: XenStore): SshmRecord[] {
  if (!xs.exists(SSHM_ROOT)) return [];
  const domains = xs.exists("/local/domain") ? xs.directory("/local/domain") : [];
  return xs.directory(SSHM_ROOT).map((id) => {
    const node = sshmIdPath(id);
    const bdir = `${node}/borrowers`;
    const borrowers = (xs.exists(bdir) ? xs.directory(bdir) : []).map((d) => {
      const p = `${bdir}/${d}`;
      return {
        domid: Number(d),
        begin: readHex(xs, `${p}/begin`),
        size: readHex(xs, `${p}/size`),
        prot: readString(xs, `${p}/prot`),
        offset: readHex(xs, `${p}/offset`),
      };
    });
    const roles: { domid: number; role: string }[] = [];
    for (const d of domains) {
      const r = xs.read(`/local/domain/${d}/static_shm/${id}/role`);
      if (r !== undefined) roles.push({ domid: Number(d), role: r });
    }
    return {
      id,
      owner: readDecimal(xs, `${node}/owner`),
      begin: readHex(xs, `${node}/begin`),
      size: readHex(xs, `${node}/size`),
      prot: readString(xs, `${node}/prot`),
      cachePolicy: readString(xs, `${node}/cache_policy`),
      usercnt: readDecimal(xs, `${node}/usercnt`),
      borrowers,
      roles,
    };
  });
}
