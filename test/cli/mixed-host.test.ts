/**
 * A dom0less host with Dom0 plus xl domains created from that Dom0 (issue 12 §11): Xen boots the
 * host device tree first, then the xl configs are created in order on the same hypervisor, their
 * domids following the boot-time ones. Every rule of either side still holds, with its message.
 */
import { describe, expect, it } from "vitest";
import { DT, FIX, sshmInProcess, XL } from "./run.js";

const sshm = sshmInProcess;

const MIX = `${FIX}/mixed`;
const XEN_LOG = [
  "  (XEN) Checking for initrd in /chosen",
  '  (XEN) Checking for "xen,static-mem" in domain node',
  '  (XEN) Checking for "xen,static-mem" in domain node',
  "  (XEN)  SHMEM[0]: 0000000010000000 - 000000001fffffff",
  "  (XEN)  SHMEM[1]: 0000000050000000 - 000000006fffffff",
  "  (XEN) P2M: 40-bit IPA with 40-bit PA and 8-bit VMID",
  "  (XEN) P2M: 3 levels with order-1 root, VTCR 0x0000000080023558",
];

/** check's second line: the PA range it assumed (booting.dts has no /cpus). */
const PA40 =
  "  PA range 40 bits, sshm's default: the host DT has no /cpus/cpu node: 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558";

interface BootJson {
  kind: string;
  source: string;
  domains: { domid: number; name: string; source: string; state: string }[];
  regions: { id: string; owner: string; chunks: { start: string; size: string }[] }[];
  xenstore: string[];
}

describe("dom0less host, then xl in its Dom0", () => {
  it("boots the tree, then creates the xl domains in order; domids continue", async () => {
    const r = await sshm("boot", "--json", DT, ...XL);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as BootJson;
    expect(j.kind).toBe("xl");
    expect(j.source).toBe(DT);
    expect(j.domains.map((d) => [d.domid, d.name, d.source])).toEqual([
      [0, "Dom0", "/chosen"],
      [1, "domU1", "/chosen/domU1"],
      [2, "domU2", "/chosen/domU2"],
      [3, "vm1", XL[0]],
      [4, "vm2", XL[1]],
      [5, "vm3", XL[2]],
    ]);
    expect(j.regions.map((x) => [x.id, x.owner])).toEqual([
      ["my-shared-mem-0", "Dom0"],
      ["my-shared-mem-1", "dom_io"],
      ["my-shared-mem-2", "domU1"],
      ["ID1", "vm1"],
      ["ID2", "vm1"],
    ]);
    // libxl's records name the owner by its domid on this host.
    expect(j.xenstore).toContain('/libxl/static_shm/ID1/owner = "3"');
    expect(j.xenstore).toContain('/local/domain/0/name = "Dom0"');
    // The xl owner's pages came from the boot's heap, clear of every boot-time region.
    const boot = j.regions.slice(0, 3).flatMap((x) => x.chunks);
    for (const c of j.regions.slice(3).flatMap((x) => x.chunks))
      for (const b of boot)
        expect(
          Number(c.start) + Number(c.size) <= Number(b.start) ||
            Number(b.start) + Number(b.size) <= Number(c.start),
        ).toBe(true);
  });

  it("check: the summary counts both; destroys go through xl for xl domains", async () => {
    const c = await sshm("check", DT, ...XL);
    expect(c.status).toBe(0);
    expect(c.stdout).toBe(`accepted: 6 domains, 5 regions, 0 warnings\n${PA40}\n`);
    const d = await sshm("boot", DT, ...XL, "--destroy", "vm2", "--destroy", "domU2");
    expect(d.status).toBe(0);
    expect(d.stdout.split("\n").slice(0, 2)).toEqual([
      "accepted: 4 domains, 5 regions, 0 warnings",
      "  after destroying vm2, domU2",
    ]);
    expect(d.stdout).toContain('  /libxl/static_shm/ID1/usercnt = "1"\n');
  });

  it("an xl create that fails: xl's refusal after Xen's boot console", async () => {
    const r = await sshm("check", DT, XL[1]!);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(
      [
        `rejected: xl create ${XL[1]} fails creating the domain`,
        PA40,
        "",
        "Xen console, then xl:",
        ...XEN_LOG,
        `  xl create ${XL[1]}: ${XL[1]}:17:16: static_shm[0] id=ID1: no owner found. (create the owner of "ID1" before its borrowers)`,
        "",
      ].join("\n"),
    );
  });

  it("an xl borrower cannot borrow a boot-time region, nor an xl owner reuse its id", async () => {
    const b = await sshm("check", `${MIX}/host.dts`, `${MIX}/borrow-boot-id.cfg`);
    expect(b.status).toBe(1);
    expect(b.stdout.trimEnd().split("\n").at(-1)).toBe(
      `  xl create ${MIX}/borrow-boot-id.cfg: ${MIX}/borrow-boot-id.cfg:6:16: static_shm[0] id=SHM1: no owner found. (id "SHM1" is a static shm region of the host device tree, /chosen/domU1/domU1-shared-mem@50000000; libxl looks for owners in xenstore only, where boot-time regions are not)`,
    );
    const o = await sshm("check", `${MIX}/host.dts`, `${MIX}/own-boot-id.cfg`);
    expect(o.status).toBe(1);
    expect(o.stdout.trimEnd().split("\n").at(-1)).toBe(
      `  xl create ${MIX}/own-boot-id.cfg: ${MIX}/own-boot-id.cfg:6:16: static_shm[0] id=SHM1: id "SHM1" is also a static shm region of the host device tree (/chosen/domU1/domU1-shared-mem@50000000); Xen and libxl keep the two apart, sshm names regions by id and cannot: use another id`,
    );
  });

  it("a host tree Xen refuses: its panic, and no xl at all", async () => {
    const r = await sshm("check", `${FIX}/parse-reject.dts`, XL[0]!);
    expect(r.status).toBe(1);
    expect(r.stdout.split("\n")[0]).toBe("rejected at early FDT parsing: Early FDT parsing failed (-22)");
    expect(r.stdout).not.toContain("xl create");
  });

  it("no Dom0 to run xl in, two trees, --host-ram with a tree", async () => {
    const n = await sshm("check", `${FIX}/warn.dts`, XL[0]!);
    expect(n.status).toBe(1);
    expect(n.stdout).toBe("");
    expect(n.stderr).toBe(
      `sshm: ${FIX}/warn.dts: xl runs in Dom0, and this host device tree boots no Dom0 (no multiboot,kernel module directly under /chosen): give the xl configs alone, or a host tree with a Dom0\n`,
    );
    const two = await sshm("check", DT, XL[0]!, `${FIX}/warn.dts`);
    expect(two.status).toBe(64);
    expect(two.stderr.split("\n")[0]).toBe(
      `sshm check: one host has one device tree, got 2: ${DT}, ${FIX}/warn.dts`,
    );
    const ram = await sshm("check", DT, XL[0]!, "--host-ram", "0x40000000+4G");
    expect(ram.status).toBe(64);
    expect(ram.stderr.split("\n")[0]).toBe(
      "sshm check: --host-ram is for xl configs on sshm's own host: a host device tree describes its RAM in its /memory nodes",
    );
  });
});
