/**
 * From an ImageBuilder config to the host device tree Xen boots with: the config's values with
 * uboot-script-gen's defaults (`xen_config`), each file checked and placed (`check_file_type`,
 * `check_compressed_file_type`, `xen_file_loading`, `load_file`, `add_size`), and the `fdt set`
 * edits of `xen_device_tree_editing` applied on top of DEVICE_TREE. Every value keeps the config
 * line it came from, so Xen's messages about a generated node point at that line.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { SshmError } from "../common/index.js";
import {
  type FdtTree,
  findNode,
  getProp,
  isDtb,
  loadDeviceTree,
  propCells,
  type SourceLoc,
  stringValue,
  u32Cells,
} from "../fdt/index.js";
import { type Assignment, parseConfig } from "./config.js";
import { mknode, setprop } from "./dt-edit.js";
import { headerImageSize, IMAGEBUILDER_OFFSET, LoadCursor, type ReservedSpace } from "./loading.js";
import { nearestVariable, VARIABLES } from "./variables.js";

/** What a loaded file is for. */
export type BootImageRole =
  | "dom0-kernel"
  | "dom0-ramdisk"
  | "domu-kernel"
  | "domu-ramdisk"
  | "domu-passthrough-dtb"
  | "xen"
  | "device-tree";

/** A file ImageBuilder's script loads, where, and how big it counts it. */
export interface BootImage {
  role: BootImageRole;
  /** The config key that names it, e.g. "DOMU_KERNEL[1]". */
  key: string;
  /** The domU index for DOMU_* files. */
  domU?: number;
  /** The file name as written in the config. */
  file: string;
  /** The file resolved against the config's directory. */
  path: string;
  /** Load address. */
  address: number;
  /** Bytes on disk. */
  fileSize: number;
  /** The size used for placement and the DT `reg`: the larger of fileSize and the kernel header's. */
  size: number;
  /** Config line of the key. */
  line: number;
}

/** A dom0less domU the config creates. */
export interface ImageBuilderDomU {
  index: number;
  /** DT node path, /chosen/domU<index>. */
  path: string;
  memoryKiB: number;
  vcpus: number;
  cmdline: string;
  kernel: BootImage;
  ramdisk?: BootImage;
  passthroughDtb?: BootImage;
}

export interface ImageBuilderSystem {
  config: string;
  deviceTree: string;
  tree: FdtTree;
  /** Every loaded file in load order (Dom0, domUs, Xen, then the device tree). */
  images: BootImage[];
  domUs: ImageBuilderDomU[];
  /** Where the generated U-Boot script itself is loaded. */
  scriptAddr: number;
  xenCmd: string;
  dom0Cmd: string | null;
}

const fail = (code: string, message: string, file: string, a?: Assignment, key?: string): SshmError =>
  new SshmError(code, message, {
    file,
    ...(a ? { line: a.line } : {}),
    ...(key !== undefined ? { key } : a ? { key: keyOf(a) } : {}),
  });

const keyOf = (a: Assignment): string => (a.index === undefined ? a.name : `${a.name}[${a.index}]`);

/** A number as bash arithmetic reads it: 0x hex, leading-0 octal, or decimal. */
function bashNumber(text: string): number | undefined {
  const s = text.trim();
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = Number.parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) v = s.length > 1 ? Number.parseInt(s.slice(1), 8) : 0;
  else if (/^[1-9][0-9]*$/.test(s)) v = Number(s);
  else return undefined;
  return Number.isSafeInteger(v) ? v : undefined;
}

/** `file` prints "empty" or "...text..." for these, and check_file_type then refuses them. */
function looksLikeText(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

/** cpio magics `file` reports as "cpio archive": newc/crc ("070701"/"070702"), odc ("070707"), binary. */
function isCpio(b: Uint8Array): boolean {
  if (b.length >= 6) {
    const m = String.fromCharCode(...b.subarray(0, 6));
    if (m === "070701" || m === "070702" || m === "070707") return true;
  }
  return b.length >= 2 && ((b[0] === 0xc7 && b[1] === 0x71) || (b[0] === 0x71 && b[1] === 0xc7));
}

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** `host DT` is sshm's extension: ImageBuilder wants a DTB there, sshm takes DTS too. */
type FileType = "executable" | "cpio archive" | "Device Tree Blob" | "host DT";

interface Config {
  file: string;
  dir: string;
  scalar: Map<string, Assignment>;
  array: Map<string, Map<number, Assignment>>;
}

function readConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SshmError("EREAD", `cannot read ${file}: ${code === "ENOENT" ? "no such file" : String(code)}`);
  }
  const assigns = parseConfig(text, file);
  const scalar = new Map<string, Assignment>();
  const array = new Map<string, Map<number, Assignment>>();
  for (const a of assigns) {
    const spec = VARIABLES[a.name];
    if (!spec) {
      const near = nearestVariable(a.name);
      throw fail(
        "EIMAGEBUILDER_UNKNOWN",
        `unknown ImageBuilder variable ${a.name}${near ? ` (did you mean ${near}?)` : ""}: uboot-script-gen never reads it, so bash would set it and ImageBuilder ignore it`,
        file,
        a,
      );
    }
    if (spec.kind === "unmodelled")
      throw fail(
        "EIMAGEBUILDER_UNMODELLED",
        `${a.name} is an ImageBuilder variable sshm does not model: ${spec.why}`,
        file,
        a,
      );
    if (spec.array && a.index === undefined)
      throw fail(
        "EIMAGEBUILDER_INDEX",
        `${a.name} is indexed by domU number: write ${a.name}[0]=... (bash would set element 0)`,
        file,
        a,
      );
    if (!spec.array && a.index !== undefined)
      throw fail("EIMAGEBUILDER_INDEX", `${a.name} is not an array: write ${a.name}=...`, file, a);
    if (a.index === undefined) scalar.set(a.name, a);
    else {
      let m = array.get(a.name);
      if (!m) {
        m = new Map();
        array.set(a.name, m);
      }
      m.set(a.index, a);
    }
  }
  return { file, dir: dirname(file), scalar, array };
}

/** The host device tree ImageBuilder's script would hand to Xen, and the files it loads. */
export function buildImageBuilderSystem(configFile: string): ImageBuilderSystem {
  const cfg = readConfig(configFile);
  const file = cfg.file;
  const S = (name: string): Assignment | undefined => cfg.scalar.get(name);
  const A = (name: string, i: number): Assignment | undefined => cfg.array.get(name)?.get(i);
  const sval = (name: string): string => S(name)?.value ?? "";
  const locOf = (a: Assignment | undefined): SourceLoc => ({
    file,
    line: a?.line ?? 1,
    column: a?.column ?? 1,
  });

  const num = (a: Assignment | undefined, key: string, what: string): number | undefined => {
    if (!a || a.value === "") return undefined;
    const v = bashNumber(a.value);
    if (v === undefined)
      throw fail(
        "EIMAGEBUILDER_NUMBER",
        `bad number ${JSON.stringify(a.value)} for ${what}: bash arithmetic reads 0x hex, 0 octal or decimal`,
        file,
        a,
        key,
      );
    return v;
  };

  if (!S("XEN") || sval("XEN") === "")
    throw new SshmError(
      "EIMAGEBUILDER_MISSING",
      `${file}: XEN is not set: uboot-script-gen stops with "Neither a Xen or Linux kernel is specified, exiting"`,
    );
  if (!S("DEVICE_TREE") || sval("DEVICE_TREE") === "")
    throw new SshmError(
      "EIMAGEBUILDER_MISSING",
      `${file}: DEVICE_TREE is not set: ImageBuilder needs the host DTB to edit`,
    );

  const numDomUs = num(S("NUM_DOMUS"), "NUM_DOMUS", "the number of domUs") ?? 0;
  // Indices past NUM_DOMUS: the script's loops never reach them, so the value is silently unused.
  for (const [name, m] of cfg.array)
    for (const [i, a] of m)
      if (i >= numDomUs)
        throw fail(
          "EIMAGEBUILDER_INDEX",
          `index ${i} is out of range: NUM_DOMUS is ${numDomUs}${S("NUM_DOMUS") ? ` (${file}:${S("NUM_DOMUS")!.line})` : " (not set)"}, so uboot-script-gen never reads ${name}[${i}]`,
          file,
          a,
        );

  // xen_config: the defaults.
  const dom0Kernel = sval("DOM0_KERNEL");
  let xenCmd = sval("XEN_CMD");
  if (xenCmd === "") {
    const mem = num(S("DOM0_MEM"), "DOM0_MEM", "Dom0's memory in MB") ?? 1024;
    const vcpus = num(S("DOM0_VCPUS"), "DOM0_VCPUS", "Dom0's vCPUs") ?? 1;
    xenCmd = `console=dtuart dtuart=serial0 dom0_mem=${mem}M dom0_max_vcpus=${vcpus} bootscrub=0 vwfi=native sched=null`;
  } else {
    num(S("DOM0_MEM"), "DOM0_MEM", "Dom0's memory in MB");
    num(S("DOM0_VCPUS"), "DOM0_VCPUS", "Dom0's vCPUs");
  }
  let dom0Cmd: string | null = null;
  if (dom0Kernel !== "") {
    dom0Cmd = sval("DOM0_CMD") || "console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused";
    if (!/root=/.test(dom0Cmd)) dom0Cmd = `${dom0Cmd} root=/dev/ram0`;
  } else {
    if (numDomUs === 0)
      throw new SshmError(
        "EIMAGEBUILDER_MISSING",
        `${file}: neither DOM0_KERNEL nor NUM_DOMUS is set: uboot-script-gen stops with "Neither dom0 or domUs are specified, exiting."`,
      );
    // `params=($XEN_CMD); XEN_CMD="${params[@]/dom0*/}"`: every word starting with dom0 becomes empty.
    xenCmd = xenCmd
      .split(/[ \t\n]+/)
      .filter((w) => w !== "")
      .map((w) => (w.startsWith("dom0") ? "" : w))
      .join(" ");
  }

  // The host DT: DTB as ImageBuilder requires, or DTS (sshm's extension), relative to the config.
  const dtA = S("DEVICE_TREE")!;
  // ImageBuilder resolves names against its -d directory; sshm against the config's own directory.
  const resolveFile = (name: string): string => (isAbsolute(name) ? name : join(cfg.dir, name));
  const readImage = (a: Assignment, key: string, type: FileType): { bytes: Uint8Array; path: string } => {
    const path = resolveFile(a.value);
    let bytes: Uint8Array;
    try {
      if (!statSync(path).isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
      bytes = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT" ? "no such file" : code === "EISDIR" ? "not a regular file" : String(code);
      throw fail(
        "EIMAGEBUILDER_FILE",
        `${a.value}: ${why} (looked for ${path}; ImageBuilder stops with "File ${a.value} doesn't exist, exiting")`,
        file,
        a,
        key,
      );
    }
    // check_compressed_file_type: a gzip file is checked by what it holds.
    let content = bytes;
    if (isGzip(bytes)) {
      try {
        content = gunzipSync(bytes);
      } catch {
        throw fail("EIMAGEBUILDER_FILE", `${a.value}: a gzip file that does not decompress`, file, a, key);
      }
    }
    const ok =
      type === "host DT"
        ? content.length > 0
        : type === "cpio archive"
          ? isCpio(content)
          : type === "Device Tree Blob"
            ? isDtb(content) || (content.length > 0 && !looksLikeText(content))
            : content.length > 0 && !looksLikeText(content);
    if (!ok)
      throw fail(
        "EIMAGEBUILDER_FILE_TYPE",
        `${a.value} is ${content.length === 0 ? "empty" : type === "cpio archive" ? "not a cpio archive" : "a text file"}: ImageBuilder stops with "Wrong file type ${a.value}. It should be ${type}, exiting."`,
        file,
        a,
        key,
      );
    return { bytes, path };
  };

  const dt = readImage(dtA, "DEVICE_TREE", "host DT");
  let tree: FdtTree;
  try {
    tree = isDtb(dt.bytes)
      ? loadDeviceTree(dt.bytes, dtA.value)
      : loadDeviceTree(new TextDecoder().decode(dt.bytes), dtA.value);
  } catch (e) {
    if (e instanceof SshmError)
      throw new SshmError(e.code, `${e.message} (the DEVICE_TREE of ${file}:${dtA.line})`, undefined);
    throw e;
  }
  // The tree now mixes the DT's lines and the config's: every message takes the file from the node.
  delete tree.source;

  const memStart = num(S("MEMORY_START"), "MEMORY_START", "the start of RAM") ?? 0;
  const memEnd = num(S("MEMORY_END"), "MEMORY_END", "the end of RAM") ?? 0;
  const cursor = new LoadCursor(memStart, reservedSpaces(tree));
  const images: BootImage[] = [];
  const load = (
    a: Assignment,
    key: string,
    role: BootImageRole,
    type: FileType,
    domU?: number,
  ): BootImage => {
    const { bytes, path } = role === "device-tree" ? dt : readImage(a, key, type);
    const size = Math.max(bytes.length, headerImageSize(bytes));
    const img: BootImage = {
      role,
      key,
      ...(domU !== undefined ? { domU } : {}),
      file: a.value,
      path,
      address: cursor.place(size),
      fileSize: bytes.length,
      size,
      line: a.line,
    };
    images.push(img);
    return img;
  };

  // xen_file_loading, in the script's order.
  let dom0K: BootImage | undefined;
  let dom0R: BootImage | undefined;
  if (dom0Kernel !== "") {
    dom0K = load(S("DOM0_KERNEL")!, "DOM0_KERNEL", "dom0-kernel", "executable");
    const rd = S("DOM0_RAMDISK");
    if (rd && rd.value !== "") dom0R = load(rd, "DOM0_RAMDISK", "dom0-ramdisk", "cpio archive");
  }
  const domUs: ImageBuilderDomU[] = [];
  for (let i = 0; i < numDomUs; i++) {
    const set = (name: string): Assignment | undefined => {
      const a = A(name, i);
      return a && a.value !== "" ? a : undefined;
    };
    if (set("DOMU_ROOTFS") || set("DOMU_NOBOOT")) continue;
    const k = set("DOMU_KERNEL");
    if (!k)
      throw fail(
        "EIMAGEBUILDER_MISSING",
        `DOMU_KERNEL[${i}] is not set, but NUM_DOMUS is ${numDomUs}: every domU below NUM_DOMUS needs a kernel (or DOMU_NOBOOT[${i}]=1)`,
        file,
        S("NUM_DOMUS"),
        `DOMU_KERNEL[${i}]`,
      );
    const kernel = load(k, `DOMU_KERNEL[${i}]`, "domu-kernel", "executable", i);
    const r = set("DOMU_RAMDISK");
    const ramdisk = r ? load(r, `DOMU_RAMDISK[${i}]`, "domu-ramdisk", "cpio archive", i) : undefined;
    const p = set("DOMU_PASSTHROUGH_DTB");
    const passthroughDtb = p
      ? load(p, `DOMU_PASSTHROUGH_DTB[${i}]`, "domu-passthrough-dtb", "Device Tree Blob", i)
      : undefined;
    const memMb = num(set("DOMU_MEM"), `DOMU_MEM[${i}]`, `domU${i}'s memory in MB`) ?? 512;
    const vcpus = num(set("DOMU_VCPUS"), `DOMU_VCPUS[${i}]`, `domU${i}'s vCPUs`) ?? 1;
    const vpl011A = set("DOMU_VPL011");
    const vpl011 = vpl011A ? num(vpl011A, `DOMU_VPL011[${i}]`, "vpl011 (0 or 1)") === 1 : true;
    const cmdline = set("DOMU_CMD")?.value ?? (vpl011 ? "console=ttyAMA0" : "");
    domUs.push({
      index: i,
      path: `/chosen/domU${i}`,
      memoryKiB: memMb * 1024,
      vcpus,
      cmdline,
      kernel,
      ...(ramdisk ? { ramdisk } : {}),
      ...(passthroughDtb ? { passthroughDtb } : {}),
    });
  }
  // Xen goes last of the PE images (secure boot expects the signed one last), then the DTB.
  load(S("XEN")!, "XEN", "xen", "executable");
  load(dtA, "DEVICE_TREE", "device-tree", "Device Tree Blob");
  if (memEnd - cursor.addr - IMAGEBUILDER_OFFSET < 0)
    throw fail(
      "EIMAGEBUILDER_MEMORY",
      `the files end at 0x${cursor.addr.toString(16)}, past MEMORY_END - 2 MiB = 0x${(memEnd - IMAGEBUILDER_OFFSET).toString(16)}: ImageBuilder stops with "Error, not enough memory to load all binaries"`,
      file,
      S("MEMORY_END"),
      "MEMORY_END",
    );

  // xen_device_tree_editing.
  const chosen = mknode(tree.root, "chosen", locOf(S("XEN")));
  const hex = (n: number): string => n.toString(16).toUpperCase();
  const split = (v: number): number[] => [Math.floor(v / 0x1_0000_0000), v % 0x1_0000_0000];
  const regOf = (img: BootImage): Uint8Array => u32Cells(...split(img.address), ...split(img.size));
  setprop(chosen, "#address-cells", u32Cells(2), locOf(S("XEN")));
  setprop(chosen, "#size-cells", u32Cells(2), locOf(S("XEN")));
  setprop(chosen, "xen,xen-bootargs", stringValue(xenCmd), locOf(S("XEN_CMD") ?? S("XEN")));
  if (dom0K) {
    const a = S("DOM0_KERNEL")!;
    const n = mknode(chosen, `module@${hex(dom0K.address)}`, locOf(a));
    setprop(
      n,
      "compatible",
      stringValue("xen,linux-zimage", "xen,multiboot-module", "multiboot,module"),
      locOf(a),
    );
    setprop(n, "reg", regOf(dom0K), locOf(a));
    setprop(chosen, "xen,dom0-bootargs", stringValue(dom0Cmd ?? ""), locOf(S("DOM0_CMD") ?? a));
  }
  if (dom0R) {
    const a = S("DOM0_RAMDISK")!;
    const n = mknode(chosen, `module@${hex(dom0R.address)}`, locOf(a));
    setprop(
      n,
      "compatible",
      stringValue("xen,linux-initrd", "xen,multiboot-module", "multiboot,module"),
      locOf(a),
    );
    setprop(n, "reg", regOf(dom0R), locOf(a));
  }
  for (const d of domUs) {
    const i = d.index;
    const at = (name: string): SourceLoc => locOf(A(name, i) ?? A("DOMU_KERNEL", i));
    const n = mknode(chosen, `domU${i}`, at("DOMU_KERNEL"));
    setprop(n, "compatible", stringValue("xen,domain"), at("DOMU_KERNEL"));
    setprop(n, "#address-cells", u32Cells(2), at("DOMU_KERNEL"));
    setprop(n, "#size-cells", u32Cells(2), at("DOMU_KERNEL"));
    // add_device_tree_mem: with static memory, `memory` is the sum of its sizes (KiB).
    let memKiB = d.memoryKiB;
    const sm = A("DOMU_STATIC_MEM", i);
    let staticCells: number[] | undefined;
    if (sm && sm.value !== "") {
      const vals = words(sm, `DOMU_STATIC_MEM[${i}]`, "a static memory base or size");
      let total = 0;
      for (let k = 1; k < vals.length; k += 2) total += vals[k]!;
      memKiB = Math.floor(total / 1024);
      staticCells = vals.flatMap(split);
    }
    setprop(n, "memory", u32Cells(...split(memKiB)), at(sm ? "DOMU_STATIC_MEM" : "DOMU_MEM"));
    setprop(n, "cpus", u32Cells(d.vcpus), at("DOMU_VCPUS"));
    if (staticCells) {
      setprop(n, "#xen,static-mem-address-cells", u32Cells(2), at("DOMU_STATIC_MEM"));
      setprop(n, "#xen,static-mem-size-cells", u32Cells(2), at("DOMU_STATIC_MEM"));
      setprop(n, "xen,static-mem", u32Cells(...staticCells), at("DOMU_STATIC_MEM"));
      // DOMU_DIRECT_MAP defaults to 1; the bool property is written only for 1.
      const dm = A("DOMU_DIRECT_MAP", i);
      const direct = dm && dm.value !== "" ? num(dm, `DOMU_DIRECT_MAP[${i}]`, "direct-map (0 or 1)") : 1;
      if (direct === 1) setprop(n, "direct-map", new Uint8Array(0), at("DOMU_DIRECT_MAP"));
    }
    const vp = A("DOMU_VPL011", i);
    if (!vp || vp.value === "" || bashNumber(vp.value) === 1)
      setprop(n, "vpl011", u32Cells(1), at("DOMU_VPL011"));
    // `DOMU_ENHANCED[i] == 1 || (DOM0_KERNEL && DOMU_ENHANCED[i] != 0)`.
    const en = A("DOMU_ENHANCED", i);
    const enV = en && en.value !== "" ? num(en, `DOMU_ENHANCED[${i}]`, "xen,enhanced (0 or 1)") : undefined;
    if (enV === 1 || (dom0K && enV !== 0))
      setprop(n, "xen,enhanced", stringValue("enabled"), at(en ? "DOMU_ENHANCED" : "DOMU_KERNEL"));
    const shm = A("DOMU_SHARED_MEM", i);
    if (shm && shm.value !== "") addSharedMem(n, shm, i);
    addModule(n, d.kernel, ["multiboot,kernel", "multiboot,module"], d.cmdline);
    if (d.ramdisk) addModule(n, d.ramdisk, ["multiboot,ramdisk", "multiboot,module"]);
    if (d.passthroughDtb) addModule(n, d.passthroughDtb, ["multiboot,device-tree", "multiboot,module"]);
  }

  function words(a: Assignment, key: string, what: string): number[] {
    return a.value
      .split(/[ \t\n]+/)
      .filter((w) => w !== "")
      .map((w) => {
        const v = bashNumber(w);
        if (v === undefined)
          throw fail(
            "EIMAGEBUILDER_NUMBER",
            `bad number ${JSON.stringify(w)} for ${what}: bash arithmetic reads 0x hex, 0 octal or decimal`,
            file,
            a,
            key,
          );
        return v;
      });
  }

  // add_device_tree_static_shared_mem: "ID [HPA] GPA SIZE", one region per domU.
  function addSharedMem(node: ReturnType<typeof mknode>, a: Assignment, i: number): void {
    const key = `DOMU_SHARED_MEM[${i}]`;
    const fields = a.value.split(/[ \t\n]+/).filter((w) => w !== "");
    const id = fields[0] ?? "";
    const rest = a.value.slice(a.value.indexOf(id) + id.length).trim();
    const vals = words({ ...a, value: rest }, key, "a shared memory address or size");
    // Fewer than 3 values: no host address (heap form), named after the id.
    const name = vals.length < 3 ? `shared-mem-${id}` : `shared-mem@${rest.split(/[ \t\n]+/)[0]}`;
    const n = mknode(node, name, locOf(a));
    setprop(n, "compatible", stringValue("xen,domain-shared-memory-v1"), locOf(a));
    setprop(n, "xen,shm-id", stringValue(id), locOf(a));
    setprop(n, "xen,shared-mem", u32Cells(...vals.flatMap(split)), locOf(a));
  }

  function addModule(
    parent: ReturnType<typeof mknode>,
    img: BootImage,
    compat: string[],
    bootargs?: string,
  ): void {
    const a = A(img.key.slice(0, img.key.indexOf("[")), img.domU ?? 0);
    const n = mknode(parent, `module@${hex(img.address)}`, locOf(a));
    setprop(n, "compatible", stringValue(...compat), locOf(a));
    setprop(n, "reg", regOf(img), locOf(a));
    if (bootargs !== undefined)
      setprop(n, "bootargs", stringValue(bootargs), locOf(A("DOMU_CMD", img.domU ?? 0) ?? a));
  }

  return {
    config: file,
    deviceTree: dt.path,
    tree,
    images,
    domUs,
    scriptAddr: cursor.scriptAddr,
    xenCmd,
    dom0Cmd,
  };
}

/** fill_reserved_spaces_from_dtb: the last `reg` range of each /reserved-memory child, deduplicated. */
function reservedSpaces(tree: FdtTree): ReservedSpace[] {
  const rm = findNode(tree, "/reserved-memory");
  if (!rm) return [];
  const cellsOf = (name: string): number | undefined => {
    const p = getProp(rm, name) ?? getProp(tree.root, name);
    const c = p ? propCells(p) : undefined;
    return c?.[0];
  };
  const ac = cellsOf("#address-cells") ?? 2;
  const sc = cellsOf("#size-cells") ?? 1;
  const out: ReservedSpace[] = [];
  for (const child of rm.children) {
    const reg = getProp(child, "reg");
    const cells = reg ? propCells(reg) : undefined;
    if (!cells || cells.length < ac + sc) continue;
    let start = 0;
    let size = 0;
    for (let k = 0; k + ac + sc <= cells.length; k += ac + sc) {
      start = 0;
      size = 0;
      for (let j = 0; j < ac; j++) start = start * 0x1_0000_0000 + cells[k + j]!;
      for (let j = 0; j < sc; j++) size = size * 0x1_0000_0000 + cells[k + ac + j]!;
    }
    if (!out.some((r) => r.start === start && r.size === size)) out.push({ start, size });
  }
  return out;
}
