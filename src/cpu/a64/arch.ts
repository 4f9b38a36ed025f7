/**
 * Architectural constants shared by the vCPU and its instruction handlers: the register-slot
 * tables for the "31 is SP or XZR" rule and the exception classes (ESR_ELx.EC, Arm ARM D17.2.37).
 */

/** Register slot for a destination field where 31 is XZR (writes discarded). */
export const RD = Int32Array.from({ length: 32 }, (_, i) => (i === 31 ? 33 : i));
/** Register slot for a field where 31 is SP (read or write). */
export const RSP = Int32Array.from({ length: 32 }, (_, i) => (i === 31 ? 32 : i));
export const SLOT_ZR = 31;
export const SLOT_SP = 32;

// Exception classes (ESR_ELx.EC, Arm ARM D17.2.37).
export const EC_UNKNOWN = 0x00;
export const EC_WFX = 0x01;
export const EC_FP_ACCESS = 0x07;
export const EC_ILLEGAL_STATE = 0x0e;
export const EC_SVC64 = 0x15;
export const EC_HVC64 = 0x16;
export const EC_SMC64 = 0x17;
export const EC_SYSREG = 0x18;
export const EC_IABT_LOWER = 0x20;
export const EC_IABT_SAME = 0x21;
export const EC_PC_ALIGN = 0x22;
export const EC_DABT_LOWER = 0x24;
export const EC_DABT_SAME = 0x25;
export const EC_SP_ALIGN = 0x26;
export const EC_BRK = 0x3c;
