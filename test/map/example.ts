/**
 * Hand-built memory map of the booting.txt static-shm example (DT-4), as the boot report would fill
 * it: Dom0 owning my-shared-mem-0 (P == G), domU1 and domU2 borrowing my-shared-mem-1 from dom_io,
 * my-shared-mem-2 allocated from the heap and owned by domU1, plus one warning.
 */
import type { MapDomain, MemoryMap } from "../../src/map/index.js";

const M = 1024 * 1024;

export const IDS = ["my-shared-mem-0", "my-shared-mem-1", "my-shared-mem-2"] as const;

export function bootingMap(): MemoryMap {
  return {
    title: "booting.txt static shared memory example",
    verdict: "accepted",
    host: [
      { kind: "ram", start: 0x1000_0000, size: 0xb000_0000, label: "RAM bank 0", source: "/memory@10000000" },
      {
        kind: "shm",
        start: 0x1000_0000,
        size: 256 * M,
        label: "my-shared-mem-0",
        id: "my-shared-mem-0",
        owner: "Dom0",
        source: "/chosen/dom0-shared-mem@10000000",
        refcount: 2,
      },
      {
        kind: "shm",
        start: 0x5000_0000,
        size: 512 * M,
        label: "my-shared-mem-1",
        id: "my-shared-mem-1",
        owner: "d[IO]",
        source: "/chosen/domU1/domU1-shared-mem@50000000",
        refcount: 3,
      },
      {
        kind: "heap-shm",
        start: 0x8000_0000,
        size: 512 * M,
        label: "my-shared-mem-2",
        id: "my-shared-mem-2",
        owner: "domU1",
        source: "/chosen/domU1/domU1-shared-mem-2",
        refcount: 2,
      },
      {
        kind: "module",
        start: 0xb000_0000,
        size: 16 * M,
        label: "Dom0 kernel",
        source: "/chosen/module@b0000000",
      },
      {
        kind: "module",
        start: 0xb100_0000,
        size: 8 * M,
        label: "domU1 kernel",
        source: "/chosen/domU1/module@b1000000",
      },
      {
        kind: "module",
        start: 0xb200_0000,
        size: 4096,
        label: "domU2 kernel",
        source: "/chosen/domU2/module@b2000000",
      },
    ],
    domains: [
      {
        name: "Dom0",
        domid: 0,
        directMapped: true,
        mappings: [
          {
            kind: "shm",
            id: "my-shared-mem-0",
            role: "owner",
            gstart: 0x1000_0000,
            hstart: 0x1000_0000,
            size: 256 * M,
            p2mType: "p2m_ram_rw",
            blocks: "128x2M",
            source: "/chosen/dom0-shared-mem@10000000",
          },
          {
            kind: "ram",
            gstart: 0x2000_0000,
            hstart: 0x2000_0000,
            size: 512 * M,
            p2mType: "p2m_ram_rw",
            blocks: "256x2M",
          },
        ],
      },
      {
        name: "domU1",
        domid: 1,
        mappings: [
          {
            kind: "ram",
            gstart: 0x4000_0000,
            hstart: 0x4000_0000,
            size: 128 * M,
            p2mType: "p2m_ram_rw",
            blocks: "64x2M",
          },
          {
            kind: "shm",
            id: "my-shared-mem-0",
            role: "borrower",
            gstart: 0x5000_0000,
            hstart: 0x1000_0000,
            size: 256 * M,
            p2mType: "p2m_map_foreign_rw",
            blocks: "128x2M",
            offset: 0,
            source: "/chosen/domU1/domU1-shared-mem@10000000",
          },
          {
            kind: "shm",
            id: "my-shared-mem-1",
            role: "dom_io-borrower",
            gstart: 0x6000_0000,
            hstart: 0x5000_0000,
            size: 512 * M,
            p2mType: "p2m_map_foreign_rw",
            blocks: "256x2M",
            offset: 0,
            source: "/chosen/domU1/domU1-shared-mem@50000000",
          },
          {
            kind: "shm",
            id: "my-shared-mem-2",
            role: "owner",
            gstart: 0x8000_0000,
            hstart: 0x8000_0000,
            size: 512 * M,
            p2mType: "p2m_ram_rw",
            blocks: "256x2M",
            source: "/chosen/domU1/domU1-shared-mem-2",
          },
        ],
      },
      {
        name: "domU2",
        domid: 2,
        mappings: [
          {
            kind: "ram",
            gstart: 0x4000_0000,
            hstart: 0x4800_0000,
            size: 64 * M,
            p2mType: "p2m_ram_rw",
            blocks: "32x2M",
          },
          {
            kind: "shm",
            id: "my-shared-mem-1",
            role: "dom_io-borrower",
            gstart: 0x7000_0000,
            hstart: 0x5000_0000,
            size: 512 * M,
            p2mType: "p2m_map_foreign_rw",
            blocks: "256x2M",
            offset: 0,
            source: "/chosen/domU2/domU2-shared-mem@50000000",
          },
          {
            kind: "shm",
            id: "my-shared-mem-2",
            role: "borrower",
            gstart: 0x9000_0000,
            hstart: 0x8000_0000,
            size: 512 * M,
            p2mType: "p2m_map_foreign_rw",
            blocks: "256x2M",
            offset: 0,
            source: "/chosen/domU2/domU2-shared-mem-2",
          },
        ],
      },
    ],
    warnings: [
      {
        code: "SSHM-DOMIO-LEAK",
        message:
          "my-shared-mem-1 is owned by dom_io: its pages are never freed, even after every borrower is destroyed",
        node: "/chosen/domU1/domU1-shared-mem@50000000",
        host: [{ start: 0x5000_0000, size: 512 * M }],
      },
    ],
  };
}

/**
 * The same system with domU2's my-shared-mem-2 borrower moved onto its own RAM (DT-41): Xen accepts
 * it and the foreign entries silently replace the RAM ones. The picture must flag the overlap even
 * though the model carries no warning for it.
 */
export function overlapMap(): MemoryMap {
  const map = bootingMap();
  const domU2 = map.domains[2] as MapDomain;
  const m = domU2.mappings[2];
  if (!m) throw new Error("example changed");
  m.gstart = 0x4200_0000;
  return map;
}

/** Count of mappings over all domains: one line each. */
export function mappingCount(map: MemoryMap): number {
  return map.domains.reduce((n, d) => n + d.mappings.length, 0);
}
