/**
 * sshm's public API: what a user scripts against.
 *
 *   import { bootDom0less } from "./src/index.js";
 *   const { report, system } = bootDom0less(readFileSync("host.dts", "utf8"), { file: "host.dts" });
 *   system?.destroy("domU2");
 *   const v = system!.domain("domU1").vcpu();   // guest reads/writes through its stage-2 table
 *   v.write32(0x6000_0000, 1);
 *   system!.hv.pageInfo(0x50000);               // count_info, owner, state of a host frame
 *   system!.domain("domU1").p2m.lookup(0x60000); // per-domain lookup(gfn)
 *
 * xl: `new XlHost()` then `createDomain(text, file)` / `destroyDomain(name)`; its `xs` is the
 * xenstore. Everything else is reachable through the per-area modules (src/<area>/index.ts).
 */

// Errors, address types and Xen's constants.
export {
  DOMID_IO,
  type DomId,
  formatDomain,
  GUEST_RAM0_BASE,
  GUEST_RAM0_SIZE,
  GUEST_RAM1_BASE,
  GUEST_RAM1_SIZE,
  isSshmError,
  SshmError,
  type Where,
} from "./common/index.js";
export { describeHost, lintStaticShm, parseStaticShm } from "./dom0less/index.js";
// The hypervisor: dom0less boot, xl create/destroy, reports.
export {
  type BootOptions,
  type BootReport,
  type BootResult,
  bootDom0less,
  createXlSystem,
  Domain,
  Hypervisor,
  type PageInfo,
  System,
  toSimSystem,
  XlHost,
  type XlHostOptions,
} from "./domains/index.js";
// Front-ends.
export { decodeDtb, encodeDtb, loadDeviceTree, parseDts, printDts } from "./fdt/index.js";
// Guest device trees and xenstore.
export { guestDtToDtb, guestDtToDts, makeDomUDt, makeHwdomDt } from "./guestdt/index.js";
export { type MemoryMap, renderHtml, renderSvg, writeMap } from "./map/index.js";
export {
  describeDescriptor,
  isStage2Fault,
  P2m,
  p2m_map_foreign_rw,
  p2m_ram_rw,
  Stage2Fault,
  Vcpu,
  walkStage2,
} from "./p2m/index.js";
// Memory, pages and stage 2.
export { HostMemory, Machine, type RamBank } from "./pagealloc/index.js";
// Traffic and pictures.
export { formatSimResult, type Scenario, type SimResult, simulate } from "./sim/index.js";
export { XenStore, xenstoreLs } from "./xenstore/index.js";
export { loadXlDomain, parseSshmSpecString, parseXlConfig } from "./xl/index.js";
