/**
 * The boot report as text for people: the one-line verdict, Xen's console as it would scroll by
 * (with the panic banner Xen prints), sshm's warnings, and for `boot` the full layout.
 */
import type { BootReport, DomainReport, RegionReport } from "../domains/index.js";
import { addr, indent, plural, range, type Style, size, table } from "./text.js";

/** Exit status of check, boot and map: 0 accepted, 1 rejected or crash, 2 accepted with warnings. */
export function verdictExitCode(r: BootReport): 0 | 1 | 2 {
  if (r.verdict !== "accepted") return 1;
  return r.warnings.length > 0 ? 2 : 0;
}

function live(r: BootReport): DomainReport[] {
  return r.domains.filter((d) => d.state !== "destroyed");
}

/** "accepted: 3 domains, 3 regions, 0 warnings" / "rejected at parse: <panic>" / "crash: ...". */
export function summaryLine(r: BootReport, s: Style): string {
  const running = r.domains.filter((d) => d.state === "running").length;
  // A destroyed domain whose pages others still reference stays a zombie ("dying"): say so.
  const dying = live(r).length - running;
  const domains = `${plural(running, "domain")}${dying > 0 ? ` (+${dying} dying)` : ""}`;
  const counts = `${domains}, ${plural(r.regions.length, "region")}, ${plural(r.warnings.length, "warning")}`;
  if (r.verdict === "accepted")
    return `${r.warnings.length > 0 ? s.yellow(s.bold("accepted")) : s.green(s.bold("accepted"))}: ${counts}`;
  if (r.kind === "xl") {
    // No panic here: xl refuses the create and the host keeps running without that domain.
    const step = r.phase === "parse" ? "reading the config" : "creating the domain";
    return `${s.red(s.bold("rejected"))}: xl create ${r.failedNode ?? "?"} fails ${step}`;
  }
  const where =
    r.phase === "parse"
      ? "at early FDT parsing"
      : r.phase === "memory"
        ? "at memory setup (setup_mm)"
        : "at domain construction";
  const what = r.panic ?? "Xen refuses it";
  if (r.verdict === "crash") return `${s.red(s.bold("crash"))}: Xen itself would crash ${where}: ${what}`;
  return `${s.red(s.bold("rejected"))} ${where}: ${what}`;
}

/**
 * Xen's console for this boot. A panic is shown inside the banner Xen prints around it, so the
 * exact panic line (e.g. "Early FDT parsing failed (-22)") appears on a line of its own.
 */
export function consoleLines(r: BootReport, s: Style): string[] {
  if (r.log.length === 0) return [];
  const out: string[] = [];
  const panicAt = r.panic !== null && r.log[r.log.length - 1] === r.panic ? r.log.length - 1 : r.log.length;
  // xl's lines carry no prefix; on a dom0less host that booted first (source: its device tree,
  // not "xl") the boot's lines before them are Xen's console.
  const xenLine = (l: string) => r.kind !== "xl" || (r.source !== "xl" && !l.startsWith("xl create "));
  for (const l of r.log.slice(0, panicAt)) out.push(`${xenLine(l) ? "(XEN) " : ""}${l}`);
  // Xen's panic() prints the banner; a trap in Xen ends in panic() too (do_unexpected_trap).
  // Other crashes (BUG_ON, ASSERT) are described in the panic field instead of Xen's dump.
  const xenPanic = r.verdict === "rejected" || r.panic?.startsWith("CPU0: Unexpected Trap:") === true;
  if (r.panic !== null && xenPanic && r.kind === "dom0less") {
    const bar = "(XEN) ****************************************";
    out.push(bar, "(XEN) Panic on CPU 0:", s.red(`(XEN) ${r.panic}`), bar);
  } else if (r.panic !== null) {
    out.push(s.red(`${r.kind === "xl" ? "" : "(XEN) "}${r.panic}`));
  }
  return out;
}

/** sshm's warnings as a table under a heading (nothing when there are none). */
export function warningLines(r: BootReport, s: Style): string[] {
  if (r.warnings.length === 0) return [];
  return [
    s.bold(`sshm warnings (${r.warnings.length}) — Xen accepts these silently:`),
    ...indent(
      table(
        ["code", "node", "message"],
        r.warnings.map((w) => [s.yellow(w.code), w.node, w.message]),
        s,
      ),
    ),
  ];
}

/** `sshm check` text: verdict, where Xen stops, its console, then the warnings. */
export function checkText(r: BootReport, s: Style): string[] {
  const out = [summaryLine(r, s)];
  if (r.failedNode !== null && r.kind === "dom0less") out.push(`  Xen stops at ${r.failedNode}`);
  const con = consoleLines(r, s);
  if (r.verdict !== "accepted" && con.length > 0)
    out.push(
      "",
      s.bold(r.kind !== "xl" ? "Xen console:" : r.source === "xl" ? "xl says:" : "Xen console, then xl:"),
      ...indent(con),
    );
  if (r.notes.length > 0) out.push("", s.bold("sshm notes:"), ...indent(r.notes));
  const w = warningLines(r, s);
  if (w.length > 0) out.push("", ...w);
  return out;
}

function domainLines(d: DomainReport, s: Style): string[] {
  const flags = [`domid ${d.domid}`, `vmid ${d.vmid}`];
  if (d.directMap) flags.push("direct-mapped");
  flags.push(`${d.totPages} of ${d.maxPages} pages`);
  if (d.state !== "running") flags.push(s.yellow(d.state));
  const head = `${s.bold(s.cyan(d.name))} (${flags.join(", ")})  ${s.dim(d.source)}`;
  if (d.mappings.length === 0) return [head, "  no mappings"];
  const rows = d.mappings.map((m) => [
    m.kind,
    m.id ?? "",
    m.role ?? "",
    range(m.gstart, m.size),
    "→",
    range(m.hstart, m.size),
    size(m.size),
    m.p2mType,
    m.blocks === "" ? s.dim("(torn down)") : m.blocks,
  ]);
  return [
    head,
    ...indent(
      table(["kind", "id", "role", "guest range", "", "host range", "size", "p2m type", "blocks"], rows, s),
    ),
  ];
}

/** "2 (all 65536 pages)" or "1 (16 pages), 2 (240 pages)". */
function refcountText(r: RegionReport): string {
  if (r.refcounts.length === 1) return `${r.refcounts[0]!.count} (all ${r.refcounts[0]!.pages} pages)`;
  return r.refcounts.map((x) => `${x.count} (${x.pages} pages)`).join(", ");
}

function regionRows(r: RegionReport, s: Style): string[] {
  const borrowers =
    r.borrowers.length === 0
      ? s.dim("none")
      : r.borrowers
          .map((b) => `${b.domain}@${addr(b.gaddr)}${b.offset ? `+${addr(b.offset)}` : ""}`)
          .join(", ");
  return [
    r.id,
    r.form,
    r.chunks.map((c) => range(c.start, c.size)).join(", "),
    size(r.size),
    r.owner ?? s.red("nobody"),
    borrowers,
    refcountText(r),
  ];
}

/** `sshm boot` text: summary, domains with their mappings, regions, xenstore, guest DTs, console. */
export function bootText(r: BootReport, s: Style, destroyed: readonly string[]): string[] {
  if (r.verdict !== "accepted") return checkText(r, s);
  const out = [summaryLine(r, s)];
  if (destroyed.length > 0) out.push(`  after destroying ${destroyed.join(", ")}`);
  out.push("", s.bold("Domains"));
  for (const d of r.domains) out.push(...indent(domainLines(d, s)), "");
  out.push(s.bold("Regions"));
  if (r.regions.length === 0) out.push("  none");
  else
    out.push(
      ...indent(
        table(
          [
            "id",
            "form",
            "host range",
            "size",
            "owner",
            "borrowers (at guest address+offset)",
            "page refcounts",
          ],
          r.regions.map((x) => regionRows(x, s)),
          s,
        ),
      ),
    );
  if (r.xenstore.length > 0) out.push("", s.bold("xenstore (xenstore-ls -f)"), ...indent(r.xenstore));
  for (const g of r.guestDts)
    out.push("", s.bold(`Device tree of ${g.domain}`), ...indent(g.dts.replace(/\n$/, "").split("\n")));
  if (r.kernels && r.kernels.length > 0)
    out.push(
      "",
      s.bold(`Kernels (Xen ${r.xenBuild} build)`),
      ...indent(
        r.kernels.map(
          (k) =>
            `${k.domain}: ${k.format}${k.aarch64 ? "" : " (AArch32)"} at ${k.load} (${k.size} bytes), entry ${k.entry}; DTB at ${k.dtb} (${k.dtbSize} bytes)${k.initrd ? `, initrd at ${k.initrd}` : ""}; vCPU0 x0=${k.x0} PSTATE=${k.pstate} SCTLR_EL1=${k.sctlr} MPIDR_EL1=${k.mpidr}`,
        ),
      ),
    );
  // What sshm assumed for the guest trees (a partial host tree, unprobed kernels): said once.
  const notes = [...new Set(r.guestDts.flatMap((g) => g.notes ?? []))];
  if (notes.length > 0)
    out.push("", s.bold("Guest device trees: sshm notes"), ...indent(notes.map((n) => `- ${n}`)));
  const con = consoleLines(r, s);
  if (con.length > 0) out.push("", s.bold("Xen console"), ...indent(con));
  if (r.notes.length > 0) out.push("", s.bold("sshm notes:"), ...indent(r.notes));
  const w = warningLines(r, s);
  if (w.length > 0) out.push("", ...w);
  return out;
}
