/** formatSimResult: the readable report of a run. */
import { fmtSize } from "../common/format.js";
import type { BaselineResult, GuestResult, SimResult } from "./types.js";

function rate(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function bps(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n.toFixed(0)} B`;
}

function us(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n.toFixed(1)} µs`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function guestRow(g: GuestResult): string[] {
  const l = g.latency;
  return [
    `d${g.domid}`,
    g.name,
    g.role,
    g.status.toUpperCase() === "OK" ? "ok" : g.status.toUpperCase(),
    String(g.messages),
    `${rate(g.msgsPerSec)}/s`,
    `${bps(g.bytesPerSec)}/s`,
    l ? us(l.p50Us) : "",
    l ? us(l.p90Us) : "",
    l ? us(l.p99Us) : "",
    l ? us(l.maxUs) : "",
  ];
}

function baselineRow(b: BaselineResult): string[] {
  return [
    "",
    b.name,
    "baseline",
    "ok",
    String(b.messages),
    `${rate(b.msgsPerSec)}/s`,
    `${bps(b.bytesPerSec)}/s`,
    "",
    "",
    "",
    "",
  ];
}

export function formatSimResult(r: SimResult): string {
  const s = r.scenario;
  const out: string[] = [];
  const what = s.durationMs !== undefined ? `${s.durationMs} ms` : `${s.count ?? 10000} messages`;
  out.push(
    `${r.ok ? "PASSED" : "FAILED"}: ${s.kind} over region '${r.region}', ${s.size} B messages, ${what}, ${s.doorbell === false ? "polling" : "doorbells"} (${(r.elapsedMs / 1000).toFixed(2)} s)`,
  );
  for (const e of r.errors) out.push(`  error: ${e}`);
  out.push("");
  const rows = [
    ["dom", "name", "role", "status", "messages", "msgs/s", "bytes/s", "p50", "p90", "p99", "max"],
  ];
  for (const g of r.guests) rows.push(guestRow(g));
  for (const b of r.baselines) rows.push(baselineRow(b));
  out.push(table(rows));
  const notes = r.guests.filter((g) => g.detail !== "");
  if (notes.length > 0) {
    out.push("");
    for (const g of notes) out.push(`d${g.domid} ${g.name}: ${g.detail}`);
  }
  if (r.destroyed) out.push(`\nd${r.destroyed.domid} destroyed at ${r.destroyed.atMs.toFixed(0)} ms`);
  const cons = r.guests.find((g) => g.role === "consumer" || g.role === "reader" || g.role === "initiator");
  if (cons && r.baselines.length > 0) {
    out.push("");
    for (const b of r.baselines)
      out.push(
        `${cons.name} vs ${b.name}: ${(cons.msgsPerSec / b.msgsPerSec).toFixed(2)}x the baseline's rate`,
      );
  }
  out.push("", "rings:");
  for (const g of r.rings)
    out.push(
      `  ${g.name} at region offset 0x${g.offset.toString(16)} (${fmtSize(g.bytes)}): ${g.slots} slots of ${g.slotSize} B, d${g.producer} -> ${g.readers.map((d) => `d${d}`).join(", ")}`,
    );
  if (r.pageCounts) {
    const v = r.pageCountsView;
    const whose =
      v?.through !== "host frames"
        ? `owner ${v?.owner ?? "?"}, through its stage-2`
        : v.owner === "nobody"
          ? "no owner: the region's host frames"
          : `owner ${v.owner}, which has no stage-2: the region's host frames`;
    out.push("", `page reference counts (${whose}):`);
    for (const p of r.pageCounts)
      out.push(
        `  offset 0x${p.offset.toString(16)} +${p.pages} page${p.pages === 1 ? "" : "s"}: ${p.mfn < 0 ? "not mapped" : `mfn 0x${p.mfn.toString(16)}…, count ${p.count}`}`,
      );
  }
  return out.join("\n");
}
