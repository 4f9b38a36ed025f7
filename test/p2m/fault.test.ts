import { describe, expect, it } from "vitest";
import { SshmError } from "../../src/common/errors.js";
import {
  decodeEsr,
  decodeFsc,
  ESR_EC_DABT_LOW,
  ESR_EC_IABT_LOW,
  esrDataAbort,
  esrInstructionAbort,
  FAULT_ACCESS_FLAG,
  FAULT_ADDRESS_SIZE,
  FAULT_PERMISSION,
  FAULT_TRANSLATION,
  faultKindName,
  fscFor,
  hpfarFor,
  hpfarValid,
  ipaFromHpfar,
  isStage2Fault,
  Stage2Fault,
  xenHpfarIsValid,
} from "../../src/p2m/fault.js";

describe("FSC", () => {
  it("long-descriptor codes for every kind and level", () => {
    const table = [
      ["address-size", [0x00, 0x01, 0x02, 0x03]],
      ["translation", [0x04, 0x05, 0x06, 0x07]],
      ["access-flag", [0x08, 0x09, 0x0a, 0x0b]],
      ["permission", [0x0c, 0x0d, 0x0e, 0x0f]],
    ] as const;
    for (const [kind, codes] of table) {
      codes.forEach((fsc, level) => {
        expect(fscFor(kind, level)).toBe(fsc);
        expect(decodeFsc(fsc)).toEqual({ kind, level });
      });
    }
    expect(fscFor(FAULT_TRANSLATION, 2)).toBe(0x06);
    expect(fscFor(FAULT_ACCESS_FLAG, 3)).toBe(0x0b);
    expect(fscFor(FAULT_PERMISSION, 1)).toBe(0x0d);
    expect(fscFor(FAULT_ADDRESS_SIZE, 0)).toBe(0x00);
    expect(decodeFsc(0x21)).toBeUndefined();
    expect(() => fscFor("translation", 4)).toThrow(RangeError);
    expect(() => fscFor(0, 1)).toThrow(RangeError);
    expect(faultKindName(2)).toBe("access-flag");
    expect(() => faultKindName(5)).toThrow(RangeError);
  });
});

describe("syndrome vectors (reference §3.4)", () => {
  it("S-1: EL1 STR w1,[x0] to IPA 0x4000_1234, L3 translation fault", () => {
    const esr = esrDataAbort({ dfsc: fscFor("translation", 3), wnr: true, isv: true, sas: 2, srt: 1 });
    expect(esr).toBe(0x93810047);
    expect(hpfarFor(0x4000_1234)).toBe(0x400010);
    expect(decodeEsr(esr)).toMatchObject({
      ec: ESR_EC_DABT_LOW,
      il: true,
      isv: true,
      sas: 2,
      srt: 1,
      wnr: true,
      fsc: 7,
    });
    const f = new Stage2Fault({
      ipa: 0x4000_1234,
      kind: "translation",
      level: 3,
      access: "write",
      syndrome: { sas: 2, srt: 1 },
    });
    expect(f.esr).toBe(0x93810047);
    expect(f.hpfar).toBe(0x400010);
    expect(f.hpfarValid).toBe(true);
    expect(f.message).toBe(
      "stage-2 translation fault at level 3 on write to IPA 0x0000000040001234 (DFSC 0x07)",
    );
  });

  it("S-2: instruction fetch from a foreign page is a permission fault; HPFAR not valid", () => {
    expect(esrInstructionAbort({ ifsc: fscFor("permission", 3) })).toBe(0x8200000f);
    const f = new Stage2Fault({ ipa: 0x5000_0000, kind: "permission", level: 3, access: "exec" });
    expect(f.esr).toBe(0x8200000f);
    expect(decodeEsr(f.esr)).toMatchObject({ ec: ESR_EC_IABT_LOW, fsc: 0x0f, wnr: false, isv: false });
    expect(f.hpfarValid).toBe(false);
    expect(f.hpfar).toBe(0x500000);
    expect(f.message).toBe(
      "stage-2 permission fault at level 3 on exec to IPA 0x0000000050000000 (IFSC 0x0F)",
    );
  });

  it("S-3: stage-1 walk hits an unmapped IPA: S1PTW=1, HPFAR valid", () => {
    const esr = esrDataAbort({ dfsc: fscFor("translation", 2), s1ptw: true });
    expect(esr).toBe(0x92000086);
    expect(decodeEsr(esr)).toMatchObject({ s1ptw: true, fsc: 0x06, wnr: false });
    const f = new Stage2Fault({
      ipa: 0x4020_0000,
      kind: "translation",
      level: 2,
      access: "read",
      s1ptw: true,
    });
    expect(f.esr).toBe(0x92000086);
    expect(f.hpfarValid).toBe(true);
    // A permission fault on a stage-1 walk also has a valid HPFAR.
    expect(hpfarValid("permission", true)).toBe(true);
  });

  it("S-4: access flag fault at L2: DFSC 0x0A, HPFAR valid", () => {
    const f = new Stage2Fault({ ipa: 0x4020_0010, kind: "access-flag", level: 2, access: "read" });
    expect(f.fsc).toBe(0x0a);
    expect(f.esr).toBe(0x9200000a);
    expect(f.hpfarValid).toBe(true);
    expect(f.wnr).toBe(0);
  });

  it("S-5: permission fault at an L2 block without S1PTW: DFSC 0x0E, HPFAR unknown", () => {
    const f = new Stage2Fault({ ipa: 0x4020_0010, kind: "permission", level: 2, access: "write" });
    expect(f.fsc).toBe(0x0e);
    expect(f.esr).toBe(0x9200004e);
    expect(f.hpfarValid).toBe(false);
    expect(hpfarValid("address-size")).toBe(true);
    // Xen trusts HPFAR only for translation faults or S1PTW.
    expect(xenHpfarIsValid("access-flag")).toBe(false);
    expect(xenHpfarIsValid("translation")).toBe(true);
    expect(xenHpfarIsValid("permission", true)).toBe(true);
  });
});

describe("ESR fields and HPFAR", () => {
  it("every data-abort ISS field lands at Xen's hsr_dabt position", () => {
    const all = esrDataAbort({
      dfsc: 0x3f,
      wnr: 1,
      s1ptw: true,
      cm: true,
      ea: true,
      fnv: true,
      ar: true,
      sf: true,
      srt: 31,
      sse: true,
      sas: 3,
      isv: true,
    });
    expect(all).toBe(0x93ffc7ff);
    expect(esrDataAbort({ dfsc: 0x07, il: false })).toBe(0x90000007);
    expect(decodeEsr(all)).toEqual({
      ec: 0x24,
      il: true,
      iss: 0x1ffc7ff,
      fsc: 0x3f,
      wnr: true,
      s1ptw: true,
      cm: true,
      ea: true,
      fnv: true,
      isv: true,
      sas: 3,
      sse: true,
      srt: 31,
      sf: true,
      ar: true,
    });
    expect(esrInstructionAbort({ ifsc: 0x07, s1ptw: true, ea: true, fnv: true })).toBe(0x82000687);
  });

  it("HPFAR holds IPA[47:12] and round-trips with FAR's page offset", () => {
    expect(hpfarFor(0xffff_ffff_f000)).toBe(0xff_ffff_fff0);
    expect(ipaFromHpfar(hpfarFor(0xabcd_1234_5678), 0x678)).toBe(0xabcd_1234_5678);
    // Bits above a 48-bit IPA do not fit FIPA.
    expect(hpfarFor(2 ** 48 + 0x1000)).toBe(0x10);
  });
});

describe("Stage2Fault", () => {
  it("is an SshmError with code ESTAGE2_FAULT and every field", () => {
    const f = Stage2Fault.fromPacked((4 << 8) | 1, 0x1_0000_0000, "read");
    expect(f).toBeInstanceOf(SshmError);
    expect(f).toBeInstanceOf(Error);
    expect(isStage2Fault(f)).toBe(true);
    expect(isStage2Fault(new SshmError("X", "y"))).toBe(false);
    expect(f.code).toBe("ESTAGE2_FAULT");
    expect(f.name).toBe("Stage2Fault");
    expect({
      ipa: f.ipa,
      kind: f.kind,
      level: f.level,
      fsc: f.fsc,
      wnr: f.wnr,
      esr: f.esr,
      hpfar: f.hpfar,
      hpfarValid: f.hpfarValid,
      access: f.access,
      s1ptw: f.s1ptw,
    }).toEqual({
      ipa: 0x1_0000_0000,
      kind: "address-size",
      level: 1,
      fsc: 0x01,
      wnr: 0,
      esr: 0x92000001,
      hpfar: 0x1000000,
      hpfarValid: true,
      access: "read",
      s1ptw: false,
    });
    expect(f.message).toBe(
      "stage-2 address-size fault at level 1 on read to IPA 0x0000000100000000 (DFSC 0x01)",
    );
    expect(() => {
      throw f;
    }).toThrow(/stage-2 address-size fault/);
  });

  it("fromPacked carries an access syndrome into ISV", () => {
    const f = Stage2Fault.fromPacked((1 << 8) | 3, 0x4000_1234, "write", { sas: 2, srt: 1 });
    expect(f.esr).toBe(0x93810047);
  });
});
