/**
 * xl front-end: reads xl domain config files the way xl/libxlu does and checks their
 * `static_shm` lists against the xl-static-shm-configuration man page.
 *
 * Entry point: loadXlDomain(text, file) -> XlDomainConfig, throwing SshmError (codes in XL_CODES)
 * on the first broken rule. Cross-domain static_shm rules are the hypervisor model's job. It gets
 * from here each spec's numbers and source locations.
 */

export type { Token, TokenKind } from "./config-lexer.js";
export type { XlAtom, XlConfig, XlList, XlSetting, XlValue } from "./config-parser.js";
export { parseXlConfig } from "./config-parser.js";
export type { GuestRamBank, XlDomainConfig, XlWarning } from "./domain-config.js";
export {
  extractDomainConfig,
  GUEST_RAM_MAX,
  GUEST_RAM0_BASE,
  GUEST_RAM0_SIZE,
  GUEST_RAM1_BASE,
  GUEST_RAM1_SIZE,
  guestRamBanks,
  loadXlDomain,
  strtolBase0,
  XL_DEFAULT_MEMORY_MIB,
} from "./domain-config.js";
export type { SourceLoc, XlErrorCode } from "./source.js";
export { formatLoc, XL_CODES } from "./source.js";
export type { SshmKey, SshmRole, SshmSpec } from "./sshm-spec.js";
export {
  checkSshmSpecList,
  parseSshmSpec,
  parseSshmSpecString,
  SSHM_ID_MAX_LENGTH,
  SSHM_KEYS,
  SSHM_MAX_ADDRESS,
  SSHM_PAGE_SIZE,
} from "./sshm-spec.js";
