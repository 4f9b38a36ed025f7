/**
 * SSHM_SPEC: one string of the xl `static_shm = [ ... ]` list, checked exactly per the
 * xl-static-shm-configuration man page (seed 000), with libxl's messages where the 2019 fork
 * (FORK19, reference §9.5) has one and the 2017 parser (FORK17) otherwise.
 *
 * Only rules that one config file can decide live here. The cross-domain rules (owner created
 * before borrowers, offset+size inside the owner's region, prot not above the owner's, owner
 * region inside owner RAM, borrower region outside borrower RAM, one domain mapping an id twice)
 * belong to the hypervisor model, which gets from here the parsed numbers and their locations.
 *
 * Checks, in the order they run (the first failure is thrown):
 *  1. syntax: comma-separated key=value pairs, blanks allowed around '=' and ',', one optional
 *     trailing comma; every key known; no key twice; each value valid for its key
 *     (id charset and length, numbers decimal or 0x-hex within 64 bits, role, prot, cache_policy);
 *  2. mandatory keys: id, begin, size;
 *  3. role-bound keys: offset only for borrowers, cache_policy only for owners;
 *  4. platform: cache_policy=x86_normal is not supported on Arm;
 *  5. begin, size and offset are multiples of 4 KiB;
 *  6. size is not zero (sshm's decision, see below);
 *  7. the region and the offset lie inside the 52-bit Arm guest physical address space.
 *
 * Size 0: the fork libxl accepts it (0 is a multiple of 4K) and then maps nothing. The
 * device-tree binding rejects a zero size at boot. sshm rejects it with the device-tree message,
 * because an empty shared region is always a mistake.
 *
 * Respecification: the man page says each key may appear at most once. The 2017 parser enforced
 * that only halfway (XL-12). sshm enforces the man page: any repeat is an error, even with the
 * same value.
 *
 * Case: keys and the values owner, borrower, rw, ARM_normal are matched exactly as the man page
 * spells them.
 */

import type { XlAtom } from "./config-parser.js";
import type { SourceLoc } from "./source.js";
import { XL_CODES, type XlErrorCode, xlError } from "./source.js";

export type SshmRole = "owner" | "borrower";
export type SshmKey = "id" | "begin" | "size" | "offset" | "role" | "prot" | "cache_policy";

export const SSHM_KEYS: readonly SshmKey[] = [
  "id",
  "begin",
  "size",
  "offset",
  "role",
  "prot",
  "cache_policy",
];

/** Longest id the man page allows (LIBXL_SSHM_ID_MAXLEN in the fork). */
export const SSHM_ID_MAX_LENGTH = 128;
/** Page granularity of every begin/size/offset ("currently 4K on both ARM and x86"). */
export const SSHM_PAGE_SIZE = 4096;
/**
 * Upper bound for any guest physical address sshm accepts in an SSHM_SPEC. 52 bits is the widest
 * IPA space any Arm stage-2 configuration has. It also keeps every sum exact in JavaScript numbers.
 */
export const SSHM_MAX_ADDRESS = 2 ** 52;

export interface SshmSpec {
  /** Position in the static_shm list (0-based). */
  readonly index: number;
  readonly id: string;
  readonly role: SshmRole;
  readonly roleGiven: boolean;
  /** Guest physical address of the region in this domain. */
  readonly begin: number;
  readonly size: number;
  /** begin + size (exclusive end). */
  readonly end: number;
  /** Borrowers only: byte offset into the owner's region. 0 when not given (and always for owners). */
  readonly offset: number;
  readonly offsetGiven: boolean;
  readonly prot: "rw";
  readonly protGiven: boolean;
  readonly cachePolicy: "ARM_normal";
  readonly cachePolicyGiven: boolean;
  /** The spec string as xl sees it (unquoted, unescaped). */
  readonly text: string;
  /** Location of the string (its opening quote). */
  readonly loc: SourceLoc;
  /** Location of each key that was given, inside the string. */
  readonly keyLocs: Readonly<Partial<Record<SshmKey, SourceLoc>>>;
}

const BLANKS = " \t\n\r\f\v";
const KEY_RE = /^[_a-zA-Z0-9]+$/;
const ID_RE = /^[_a-zA-Z0-9]+$/;
const NUMBER_RE = /^(?:0x[0-9a-fA-F]+|[0-9]+)$/;
const U64_MAX = (1n << 64n) - 1n;

const isKey = (k: string): k is SshmKey => (SSHM_KEYS as readonly string[]).includes(k);
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** How a value is shown in messages: quoted, and cut if very long (an id may be 129+ chars). */
function show(v: string): string {
  return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
}

interface Pair {
  key: SshmKey;
  value: string;
  keyLoc: SourceLoc;
}

class SpecChecker {
  private id: string | undefined;

  constructor(
    private readonly atom: XlAtom,
    private readonly index: number,
  ) {}

  locAt(offset: number): SourceLoc {
    return this.atom.charLocs[offset] ?? this.atom.charLocs.at(-1) ?? this.atom.loc;
  }

  prefix(): string {
    return this.id === undefined ? `static_shm[${this.index}]` : `static_shm[${this.index}] id=${this.id}`;
  }

  fail(code: XlErrorCode, message: string, loc: SourceLoc = this.atom.loc): never {
    throw xlError(code, `${this.prefix()}: ${message}`, loc);
  }

  /** Split into key=value pairs with their locations; checks syntax, keys and repeats. */
  pairs(): Pair[] {
    const text = this.atom.text;
    const out: Pair[] = [];
    const seen = new Set<SshmKey>();
    let start = 0;
    let first = true;
    for (;;) {
      const comma = text.indexOf(",", start);
      const stop = comma < 0 ? text.length : comma;
      let a = start;
      let b = stop;
      while (a < b && BLANKS.includes(text.charAt(a))) a++;
      while (b > a && BLANKS.includes(text.charAt(b - 1))) b--;
      if (a === b) {
        // Nothing between two commas. Allowed only as the tail after a final comma, or when the
        // whole string is blank (then "id not specified" follows).
        const isTail = comma < 0;
        if (!(isTail && (!first || out.length === 0))) {
          this.fail(
            XL_CODES.sshmSyntax,
            "unrecognized token: empty key=value pair (pairs are separated by single commas)",
            this.locAt(a),
          );
        }
      } else {
        out.push(this.pair(text.slice(a, b), a, seen));
      }
      if (comma < 0) return out;
      start = comma + 1;
      first = false;
    }
  }

  private pair(token: string, at: number, seen: Set<SshmKey>): Pair {
    const loc = this.locAt(at);
    const eq = token.indexOf("=");
    if (eq < 0) {
      this.fail(XL_CODES.sshmSyntax, `unrecognized token ${show(token)}: expected key=value`, loc);
    }
    const rawKey = token.slice(0, eq).replace(/[ \t\n\r\f\v]+$/, "");
    let vStart = eq + 1;
    while (vStart < token.length && BLANKS.includes(token.charAt(vStart))) vStart++;
    const value = token.slice(vStart);
    if (!KEY_RE.test(rawKey)) {
      this.fail(XL_CODES.sshmSyntax, `unrecognized token ${show(token)}: expected key=value`, loc);
    }
    if (!isKey(rawKey)) {
      this.fail(
        XL_CODES.sshmUnknownKey,
        `invalid option ${show(rawKey)} (valid keys: ${SSHM_KEYS.join(", ")})`,
        loc,
      );
    }
    if (seen.has(rawKey)) {
      this.fail(
        XL_CODES.sshmRespecified,
        `"${rawKey}" respecified (each key may appear at most once per SSHM_SPEC)`,
        loc,
      );
    }
    seen.add(rawKey);
    if (rawKey === "id") this.checkId(value, loc);
    return { key: rawKey, value, keyLoc: loc };
  }

  private checkId(value: string, loc: SourceLoc): void {
    if (value.length > SSHM_ID_MAX_LENGTH) {
      this.fail(
        XL_CODES.sshmId,
        `id too long: ${value.length} characters, at most ${SSHM_ID_MAX_LENGTH}`,
        loc,
      );
    }
    if (!ID_RE.test(value)) {
      this.fail(
        XL_CODES.sshmId,
        `invalid id ${show(value)}: an id is 1 to ${SSHM_ID_MAX_LENGTH} characters, each an ASCII letter, digit or "_"`,
        loc,
      );
    }
    this.id = value;
  }

  number(key: "begin" | "size" | "offset", value: string, loc: SourceLoc): bigint {
    if (!NUMBER_RE.test(value)) {
      this.fail(
        XL_CODES.sshmNumber,
        `invalid ${key} ${show(value)}: expected a decimal number or a hexadecimal one with prefix 0x`,
        loc,
      );
    }
    const n = BigInt(value);
    if (n > U64_MAX) {
      this.fail(XL_CODES.sshmNumber, `invalid ${key} ${show(value)}: out of range (more than 64 bits)`, loc);
    }
    return n;
  }
}

/**
 * Parse and check one SSHM_SPEC (a string of the static_shm list). `index` is its position in
 * the list, used in messages. Throws SshmError on the first broken rule.
 */
export function parseSshmSpec(atom: XlAtom, index: number): SshmSpec {
  const c: SpecChecker = new SpecChecker(atom, index);
  const pairs = c.pairs();
  const keyLocs: Partial<Record<SshmKey, SourceLoc>> = {};
  const values: Partial<Record<SshmKey, string>> = {};
  let role: SshmRole = "borrower";
  let cache: "ARM_normal" | "x86_normal" = "ARM_normal";
  const nums: Partial<Record<"begin" | "size" | "offset", bigint>> = {};

  for (const p of pairs) {
    keyLocs[p.key] = p.keyLoc;
    values[p.key] = p.value;
    switch (p.key) {
      case "id":
        break; // checked while splitting, so later messages can name the id
      case "begin":
      case "size":
      case "offset":
        nums[p.key] = c.number(p.key, p.value, p.keyLoc);
        break;
      case "role":
        if (p.value !== "owner" && p.value !== "borrower") {
          c.fail(XL_CODES.sshmRole, `invalid role ${show(p.value)}: expected owner or borrower`, p.keyLoc);
        }
        role = p.value === "owner" ? "owner" : "borrower";
        break;
      case "prot":
        if (p.value !== "rw") {
          c.fail(
            XL_CODES.sshmProt,
            `invalid permission flags ${show(p.value)}: only rw is supported`,
            p.keyLoc,
          );
        }
        break;
      case "cache_policy":
        // x86_normal is a value libxl knows (so not "invalid"); the Arm hook refuses it below.
        if (p.value !== "ARM_normal" && p.value !== "x86_normal") {
          c.fail(
            XL_CODES.sshmCachePolicy,
            `invalid cache policy ${show(p.value)}: only ARM_normal is supported`,
            p.keyLoc,
          );
        }
        cache = p.value === "ARM_normal" ? "ARM_normal" : "x86_normal";
        break;
    }
  }

  const id = values.id;
  if (id === undefined) c.fail(XL_CODES.sshmMissing, "id not specified");
  const begin = nums.begin;
  if (begin === undefined) c.fail(XL_CODES.sshmMissing, "begin address not specified");
  const size = nums.size;
  if (size === undefined) c.fail(XL_CODES.sshmMissing, "size not specified");

  if (role === "owner" && keyLocs.offset) {
    c.fail(XL_CODES.sshmRoleKey, "offset is only applicable to borrower domains", keyLocs.offset);
  }
  if (role === "borrower" && keyLocs.cache_policy) {
    c.fail(XL_CODES.sshmRoleKey, "cache_policy is only applicable to owner domains", keyLocs.cache_policy);
  }
  if (cache === "x86_normal") {
    c.fail(XL_CODES.sshmCachePolicy, "cache policy not supported on this platform", keyLocs.cache_policy);
  }

  const offset = nums.offset ?? 0n;
  const page = BigInt(SSHM_PAGE_SIZE);
  for (const [key, n] of [
    ["begin", begin],
    ["size", size],
    ["offset", offset],
  ] as const) {
    if (n % page !== 0n) {
      c.fail(
        XL_CODES.sshmAlign,
        `begin/size/offset is not a multiple of 4K (${key} = ${hex(n)})`,
        keyLocs[key],
      );
    }
  }
  if (size === 0n) {
    c.fail(XL_CODES.sshmZeroSize, "the size for static shared memory region can not be zero", keyLocs.size);
  }
  const max = BigInt(SSHM_MAX_ADDRESS);
  if (begin + size > max) {
    c.fail(
      XL_CODES.sshmRange,
      `region [${hex(begin)}, ${hex(begin + size)}) ends beyond the 52-bit Arm guest physical address space (${hex(max)})`,
      keyLocs.begin,
    );
  }
  if (offset >= max) {
    c.fail(
      XL_CODES.sshmRange,
      `offset ${hex(offset)} lies beyond the 52-bit Arm guest physical address space (${hex(max)})`,
      keyLocs.offset,
    );
  }

  return {
    index,
    id,
    role,
    roleGiven: keyLocs.role !== undefined,
    begin: Number(begin),
    size: Number(size),
    end: Number(begin + size),
    offset: Number(offset),
    offsetGiven: keyLocs.offset !== undefined,
    prot: "rw",
    protGiven: keyLocs.prot !== undefined,
    cachePolicy: "ARM_normal",
    cachePolicyGiven: keyLocs.cache_policy !== undefined,
    text: atom.text,
    loc: atom.loc,
    keyLocs,
  };
}

/**
 * Check one config's static_shm list as a whole: each id at most once per config file, and
 * borrower ranges must not overlap (libxl's "borrower ranges overlap.", which does not compare
 * owner entries). The first problem is thrown, in list order.
 */
export function checkSshmSpecList(specs: readonly SshmSpec[]): void {
  const byId = new Map<string, SshmSpec>();
  for (const s of specs) {
    const prev = byId.get(s.id);
    if (prev) {
      const pl = prev.keyLocs.id ?? prev.loc;
      throw xlError(
        XL_CODES.sshmDuplicateId,
        `static_shm[${s.index}] id=${s.id}: id ${s.id} is already used by static_shm[${prev.index}] (line ${pl.line}, column ${pl.column}); each id may appear only once per config file`,
        s.keyLocs.id ?? s.loc,
      );
    }
    byId.set(s.id, s);
  }
  const borrowers = specs.filter((s) => s.role === "borrower");
  for (let i = 0; i < borrowers.length; i++) {
    const s = borrowers[i]!;
    for (let j = 0; j < i; j++) {
      const p = borrowers[j]!;
      if (s.begin < p.end && p.begin < s.end) {
        throw xlError(
          XL_CODES.sshmOverlap,
          `static_shm[${s.index}] id=${s.id}: borrower ranges overlap. [${hex(s.begin)}, ${hex(s.end)}) overlaps static_shm[${p.index}] id=${p.id} [${hex(p.begin)}, ${hex(p.end)})`,
          s.keyLocs.begin ?? s.loc,
        );
      }
    }
  }
}

/**
 * Convenience for checking a bare SSHM_SPEC string (not read from a config file), e.g. from a
 * command line. Locations are line 1, columns counted from 1 in `text`.
 */
export function parseSshmSpecString(text: string, file = "<sshm-spec>", index = 0): SshmSpec {
  const charLocs: SourceLoc[] = [];
  for (let i = 0; i <= text.length; i++) charLocs.push({ file, line: 1, column: i + 1 });
  const atom: XlAtom = { kind: "atom", token: "string", text, loc: { file, line: 1, column: 1 }, charLocs };
  return parseSshmSpec(atom, index);
}
