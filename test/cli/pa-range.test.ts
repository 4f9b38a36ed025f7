/**
 * The host CPU's address size (issue 11 §1, issue 12 §2), one fixture per case with its exact
 * output: the PA range from the /cpus compatible (A57 44 bits, A53 40 bits, an unknown core 40
 * bits with a warning, big.LITTLE with and without hmp-unsafe), a guest address on each side of
 * the IPA boundary (accepted and reachable; accepted in a root entry no walk reads, IPA_RANGE;
 * refused with -EINVAL beside an sshm note), --pa-bits and --cpu, RAM above the PA range (a crash
 * in setup_mm) and a host range above it (PA_RANGE); then simulate agreeing with check.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { FIX, type Run, runAll } from "./run.js";

const EXACT = {
  a57Below: {
    args: ["check", "test/cli/fixtures/pa-a57-below.dts"],
    code: 0,
    stdout: `accepted: 2 domains, 1 region, 0 warnings
  PA range 44 bits, from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4): 44-bit IPA for every domain, 4 levels from L0, 1 root page, VTCR 0x80043594
`,
  },
  a57At: {
    args: ["check", "test/cli/fixtures/pa-a57-at.dts"],
    code: 2,
    stdout: `accepted: 2 domains, 1 region, 1 warning
  PA range 44 bits, from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4): 44-bit IPA for every domain, 4 levels from L0, 1 root page, VTCR 0x80043594

sshm warnings (1) — Xen accepts these silently:
  code       node                        message
  IPA_RANGE  /chosen/domU2/shm-borrower  shm "ring" (borrower) guest range [0x0000100000000000, 0x0000100000010000) of domU2 lies outside its 44-bit IPA space and can never be reached: Xen maps it anyway (p2m_get_root_pointer only checks gfn >> 36 < P2M_ROOT_PAGES = 1, so the mapping fills L0 entry 32, which no walk with VTCR.T0SZ = 20 reads) and the guest DT lists it, but every access takes a stage-2 Translation fault at level 0 and Xen injects a data abort
`,
  },
  a53Below: {
    args: ["check", "test/cli/fixtures/pa-a53-below.dts"],
    code: 0,
    stdout: `accepted: 2 domains, 1 region, 0 warnings
  PA range 40 bits, from /cpus/cpu@0 compatible "arm,cortex-a53" (Cortex-A53, PARange 2): 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558
`,
  },
  a53At: {
    args: ["check", "test/cli/fixtures/pa-a53-at.dts"],
    code: 1,
    stdout: `rejected at domain construction: Could not set up domain domU2 (rc = -22)
  Xen stops at /chosen/domU2/shm-borrower (test/cli/fixtures/pa-a53-at.dts:64:13)
  sshm note: /chosen/domU2/shm-borrower: guest address 0x0000010000000000 is beyond domU2's 40-bit IPA space (PA range 40 bits, from /cpus/cpu@0 compatible "arm,cortex-a53" (Cortex-A53, PARange 2)): p2m_get_root_pointer finds root table 2 >= P2M_ROOT_PAGES = 2, so __p2m_set_entry returns -EINVAL (-22) and the domain cannot be built
  PA range 40 bits, from /cpus/cpu@0 compatible "arm,cortex-a53" (Cortex-A53, PARange 2): 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558

Xen console:
  (XEN) Checking for initrd in /chosen
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN)  SHMEM[0]: 0000000060000000 - 000000006000ffff
  (XEN) P2M: 40-bit IPA with 40-bit PA and 8-bit VMID
  (XEN) P2M: 3 levels with order-1 root, VTCR 0x0000000080023558
  (XEN) ****************************************
  (XEN) Panic on CPU 0:
  (XEN) Could not set up domain domU2 (rc = -22)
  (XEN) ****************************************
`,
  },
  unknownBelow: {
    args: ["check", "test/cli/fixtures/pa-unknown-below.dts"],
    code: 2,
    stdout: `accepted: 2 domains, 1 region, 1 warning
  PA range 40 bits, sshm's default: /cpus/cpu@0 is not a core whose PA range sshm knows: 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558

sshm warnings (1) — Xen accepts these silently:
  code         node         message
  UNKNOWN_CPU  /cpus/cpu@0  /cpus/cpu@0 has compatible "acme,mystery-core", a core sshm does not know, so its ID_AA64MMFR0_EL1.PARange is unknown: sshm assumes 40 bits; give --cpu NAME (cortex-a35, cortex-a53, cortex-a55, cortex-a57, cortex-a65, cortex-a72, cortex-a73, cortex-a75, cortex-a76, cortex-a77, cortex-a78, cortex-x1, cortex-a510, cortex-a710, neoverse-n1, neoverse-n2, neoverse-v1, max, host) or --pa-bits N to say what the host has
`,
  },
  unknownAt: {
    args: ["check", "test/cli/fixtures/pa-unknown-at.dts"],
    code: 1,
    stdout: `rejected at domain construction: Could not set up domain domU2 (rc = -22)
  Xen stops at /chosen/domU2/shm-borrower (test/cli/fixtures/pa-unknown-at.dts:59:13)
  sshm note: /chosen/domU2/shm-borrower: guest address 0x0000010000000000 is beyond domU2's 40-bit IPA space (PA range 40 bits, sshm's default: /cpus/cpu@0 is not a core whose PA range sshm knows): p2m_get_root_pointer finds root table 2 >= P2M_ROOT_PAGES = 2, so __p2m_set_entry returns -EINVAL (-22) and the domain cannot be built
  PA range 40 bits, sshm's default: /cpus/cpu@0 is not a core whose PA range sshm knows: 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558

Xen console:
  (XEN) Checking for initrd in /chosen
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN)  SHMEM[0]: 0000000060000000 - 000000006000ffff
  (XEN) P2M: 40-bit IPA with 40-bit PA and 8-bit VMID
  (XEN) P2M: 3 levels with order-1 root, VTCR 0x0000000080023558
  (XEN) ****************************************
  (XEN) Panic on CPU 0:
  (XEN) Could not set up domain domU2 (rc = -22)
  (XEN) ****************************************

sshm warnings (1) — Xen accepts these silently:
  code         node         message
  UNKNOWN_CPU  /cpus/cpu@0  /cpus/cpu@0 has compatible "acme,mystery-core", a core sshm does not know, so its ID_AA64MMFR0_EL1.PARange is unknown: sshm assumes 40 bits; give --cpu NAME (cortex-a35, cortex-a53, cortex-a55, cortex-a57, cortex-a65, cortex-a72, cortex-a73, cortex-a75, cortex-a76, cortex-a77, cortex-a78, cortex-x1, cortex-a510, cortex-a710, neoverse-n1, neoverse-n2, neoverse-v1, max, host) or --pa-bits N to say what the host has
`,
  },
  paBits48: {
    args: ["check", "--pa-bits", "48", "test/cli/fixtures/pa-a57-at.dts"],
    code: 0,
    stdout: `accepted: 2 domains, 1 region, 0 warnings
  PA range 48 bits, from --pa-bits 48: 48-bit IPA for every domain, 4 levels from L0, 1 root page, VTCR 0x80053590
`,
  },
  cpuA57: {
    args: ["check", "--cpu", "cortex-a57", "test/cli/fixtures/pa-a53-at.dts"],
    code: 0,
    stdout: `accepted: 2 domains, 1 region, 0 warnings
  PA range 44 bits, from --cpu cortex-a57 (Cortex-A57, PARange 4): 44-bit IPA for every domain, 4 levels from L0, 1 root page, VTCR 0x80043594
`,
  },
  ramAbove: {
    args: ["check", "test/cli/fixtures/pa-ram-above.dts"],
    code: 1,
    stdout: `crash: Xen itself would crash at memory setup (setup_mm): CPU0: Unexpected Trap: Data Abort
  sshm note: /memory: free RAM ends at 0x0000010040000000, above the 40-bit PA range (from /cpus/cpu@0 compatible "arm,cortex-a53" (Cortex-A53, PARange 2)): in setup_mm Xen's boot allocator hands out the top page 0x000001003ffff000 for its first page table (create_xen_table), and clearing it takes an Address size fault at EL2 (TCR_EL2.PS = PARange), a data abort in Xen before any domain is built. Xen also prints "Data Abort Trap. Syndrome=...", a walk of its page tables and the register dump, which sshm does not reproduce
  PA range 40 bits, from /cpus/cpu@0 compatible "arm,cortex-a53" (Cortex-A53, PARange 2): 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558

Xen console:
  (XEN) Checking for initrd in /chosen
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN)  SHMEM[0]: 0000000060000000 - 000000006000ffff
  (XEN) CPU0: Unexpected Trap: Data Abort
  (XEN) ****************************************
  (XEN) Panic on CPU 0:
  (XEN) CPU0: Unexpected Trap: Data Abort
  (XEN) ****************************************
`,
  },
  hostAbove: {
    args: ["check", "test/cli/fixtures/pa-host-above.dts"],
    code: 2,
    stdout: `accepted: 2 domains, 1 region, 2 warnings
  PA range 40 bits, from /cpus/cpu@0 compatible "arm,cortex-a53" (Cortex-A53, PARange 2): 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558

sshm warnings (2) — Xen accepts these silently:
  code      node                        message
  PA_RANGE  /chosen/domU1/shm-owner     shm "ring" (owner) of domU1 is backed by host range [0x0000010000000000, 0x0000010000010000), above the 40-bit output size of its stage-2 tables (VTCR_EL2.PS = 2): the CPU cannot address it, so every access takes a stage-2 Address size fault (Xen prints "Unsupported FSC" and injects a data abort)
  PA_RANGE  /chosen/domU2/shm-borrower  shm "ring" (borrower) of domU2 is backed by host range [0x0000010000000000, 0x0000010000010000), above the 40-bit output size of its stage-2 tables (VTCR_EL2.PS = 2): the CPU cannot address it, so every access takes a stage-2 Address size fault (Xen prints "Unsupported FSC" and injects a data abort)
`,
  },
  bigLittle: {
    args: ["check", "test/cli/fixtures/pa-big-little.dts"],
    code: 0,
    stdout: `accepted: 2 domains, 1 region, 0 warnings
  PA range 44 bits, from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4); 2 CPUs with another MIDR parked by Xen (no hmp-unsafe): 44-bit IPA for every domain, 4 levels from L0, 1 root page, VTCR 0x80043594
`,
  },
  bigLittleHmp: {
    args: ["check", "test/cli/fixtures/pa-big-little-hmp.dts"],
    code: 1,
    stdout: `rejected at domain construction: Could not set up domain domU2 (rc = -22)
  Xen stops at /chosen/domU2/shm-borrower (test/cli/fixtures/pa-big-little-hmp.dts:75:13)
  sshm note: /chosen/domU2/shm-borrower: guest address 0x00000fff00000000 is beyond domU2's 40-bit IPA space (PA range 40 bits, from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4), lowered by /cpus/cpu@100 compatible "arm,cortex-a53" (Cortex-A53, PARange 2) (kept on by hmp-unsafe)): p2m_get_root_pointer finds root table 31 >= P2M_ROOT_PAGES = 2, so __p2m_set_entry returns -EINVAL (-22) and the domain cannot be built
  PA range 40 bits, from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4), lowered by /cpus/cpu@100 compatible "arm,cortex-a53" (Cortex-A53, PARange 2) (kept on by hmp-unsafe): 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558

Xen console:
  (XEN) Checking for initrd in /chosen
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN) Checking for "xen,static-mem" in domain node
  (XEN)  SHMEM[0]: 0000000060000000 - 000000006000ffff
  (XEN) CPU2 MIDR (0x00000000410fd034) does not match boot CPU MIDR (0x00000000411fd070),
  (XEN) hmp-unsafe turned on so tainting Xen and keep core on!!
  (XEN) CPU3 MIDR (0x00000000410fd034) does not match boot CPU MIDR (0x00000000411fd070),
  (XEN) hmp-unsafe turned on so tainting Xen and keep core on!!
  (XEN) P2M: 40-bit IPA with 40-bit PA and 8-bit VMID
  (XEN) P2M: 3 levels with order-1 root, VTCR 0x0000000080023558
  (XEN) ****************************************
  (XEN) Panic on CPU 0:
  (XEN) Could not set up domain domU2 (rc = -22)
  (XEN) ****************************************
`,
  },
  xl32: {
    args: ["check", "--pa-bits", "32", "examples/xl/vm1.cfg"],
    code: 1,
    stdout: `crash: Xen itself would crash at memory setup (setup_mm): CPU0: Unexpected Trap: Data Abort
  sshm note: xl host RAM: free RAM ends at 0x0000000140000000, above the 32-bit PA range (from --pa-bits 32): in setup_mm Xen's boot allocator hands out the top page 0x000000013ffff000 for its first page table (create_xen_table), and clearing it takes an Address size fault at EL2 (TCR_EL2.PS = PARange), a data abort in Xen before any domain is built. Xen also prints "Data Abort Trap. Syndrome=...", a walk of its page tables and the register dump, which sshm does not reproduce
  PA range 32 bits, from --pa-bits 32: 32-bit IPA for every domain, 3 levels from L1, 1 root page, VTCR 0x80003560

Xen console:
  (XEN) CPU0: Unexpected Trap: Data Abort
  (XEN) ****************************************
  (XEN) Panic on CPU 0:
  (XEN) CPU0: Unexpected Trap: Data Abort
  (XEN) ****************************************
`,
  },
} as const;

const OTHER = {
  a57AtJson: ["check", "--json", `${FIX}/pa-a57-at.dts`],
  a53AtJson: ["check", "--json", `${FIX}/pa-a53-at.dts`],
  bootJson: ["boot", "--json", `${FIX}/pa-a57-below.dts`],
  bootText: ["boot", `${FIX}/pa-a57-below.dts`],
  simBelow: ["simulate", `${FIX}/pa-a57-below.dts`, "--count", "200"],
  simAt: ["simulate", `${FIX}/pa-a57-at.dts`, "--count", "200"],
  simHostAbove: ["simulate", `${FIX}/pa-host-above.dts`, "--count", "200"],
  simA53Override: ["simulate", `${FIX}/pa-a53-at.dts`, "--cpu", "cortex-a57", "--count", "200"],
  badBits: ["check", "--pa-bits", "41", `${FIX}/pa-a57-at.dts`],
  badBitsText: ["boot", "--pa-bits", "forty", `${FIX}/pa-a57-at.dts`],
  badCpu: ["map", "--cpu", "cortex-a99", `${FIX}/pa-a57-at.dts`, "-o", "x.svg"],
  badCpuSim: ["simulate", "--cpu", "pentium", `${FIX}/pa-a57-at.dts`],
} as const;

let R: Record<keyof typeof EXACT | keyof typeof OTHER, Run>;
beforeAll(async () => {
  const specs = Object.fromEntries([
    ...Object.entries(EXACT).map(([k, v]) => [k, v.args]),
    ...Object.entries(OTHER),
  ]) as Record<keyof typeof EXACT | keyof typeof OTHER, readonly string[]>;
  R = await runAll(specs);
}, 240_000);

describe("sshm check: the PA range and the IPA boundary, exact output", () => {
  it.each(Object.keys(EXACT) as (keyof typeof EXACT)[])("%s", (name) => {
    const e = EXACT[name];
    expect(R[name].stdout).toBe(e.stdout);
    expect(R[name].status).toBe(e.code);
    expect(R[name].stderr).toBe("");
  });
});

describe("--json and boot show the PA range, each domain's IPA size and VTCR", () => {
  it("check --json: paRange, the IPA_RANGE warning, the -EINVAL note", () => {
    const j = JSON.parse(R.a57AtJson.stdout);
    expect(j.paRange).toEqual({
      paBits: 44,
      source: "cpu",
      why: 'from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4)',
      ipaBits: 44,
      vtcr: "0x80043594",
      levels: 4,
      rootLevel: 0,
      rootPages: 1,
      vmidBits: 8,
    });
    expect(j.warnings.map((w: { code: string }) => w.code)).toEqual(["IPA_RANGE"]);
    const k = JSON.parse(R.a53AtJson.stdout);
    expect(k.verdict).toBe("rejected");
    expect(k.notes).toHaveLength(1);
    expect(k.notes[0]).toMatch(
      /^\/chosen\/domU2\/shm-borrower: guest address 0x0000010000000000 is beyond domU2's 40-bit IPA space .* returns -EINVAL \(-22\)/,
    );
    expect(k.paRange).toMatchObject({ paBits: 40, vtcr: "0x80023558", rootLevel: 1, rootPages: 2 });
  });

  it("boot: every domain has the 44-bit IPA, VTCR and its own VTTBR (VMID in bits 63:48)", () => {
    const j = JSON.parse(R.bootJson.stdout);
    expect(j.log).toContain("P2M: 44-bit IPA with 44-bit PA and 8-bit VMID");
    expect(j.log).toContain("P2M: 4 levels with order-0 root, VTCR 0x0000000080043594");
    for (const d of j.domains) {
      expect(d.ipaBits).toBe(44);
      expect(d.vtcr).toBe("0x80043594");
      expect(BigInt(d.vttbr) >> 48n).toBe(BigInt(d.vmid));
    }
    expect(R.bootText.lines[1]).toBe(
      '  PA range 44 bits, from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4): 44-bit IPA for every domain, 4 levels from L0, 1 root page, VTCR 0x80043594',
    );
    expect(
      R.bootText.lines.filter((l) => /^ {4}stage 2: 44-bit IPA, VTCR 0x80043594, VTTBR 0x/.test(l)),
    ).toHaveLength(2);
  });
});

describe("simulate runs exactly what check accepts without an address-size warning", () => {
  it("below 2^44 on the A57: traffic verified at guest 0xfff00000000", () => {
    expect(R.simBelow.status).toBe(0);
    expect(R.simBelow.lines[2]).toMatch(/^PASSED: stream over region 'ring'/);
  });

  it("at 2^44 (IPA_RANGE): the borrower's first access is a level-0 Translation fault", () => {
    expect(R.simAt.status).toBe(1);
    expect(R.simAt.stdout).toContain(
      "fault: set-up: stage-2 translation fault at level 0 on write to IPA 0x0000100000000040 (DFSC 0x04)",
    );
  });

  it("a host range above 2^40 (PA_RANGE): every access is an Address size fault", () => {
    expect(R.simHostAbove.status).toBe(1);
    expect(R.simHostAbove.stdout).toContain("stage-2 address-size fault at level 3");
  });

  it("--cpu cortex-a57 on the A53 host at 2^40: accepted and reachable", () => {
    expect(R.simA53Override.status).toBe(0);
    expect(R.simA53Override.stdout).toContain("PASSED");
  });
});

describe("bad --pa-bits / --cpu values are usage errors (exit 64)", () => {
  it.each([
    [
      "badBits",
      "sshm check: option '--pa-bits <n>' argument '41' is invalid. a physical address size in bits is one of 32, 36, 40, 42, 44, 48, 52, got \"41\"",
    ],
    ["badBitsText", "sshm boot: option '--pa-bits <n>' argument 'forty' is invalid."],
    [
      "badCpu",
      "sshm map: option '--cpu <name>' argument 'cortex-a99' is invalid. unknown core \"cortex-a99\": sshm knows cortex-a35",
    ],
    ["badCpuSim", "sshm simulate: option '--cpu <name>' argument 'pentium' is invalid."],
  ] as const)("%s", (name, message) => {
    expect(R[name].status).toBe(64);
    expect(R[name].stderr).toContain(message);
    expect(R[name].stdout).toBe("");
  });
});
