/**
 * simulate(): run a traffic scenario over a static shared memory region, one worker thread per
 * participating vCPU, each translating through its own stage-2 tables.
 */

import { SshmError } from "../common/index.js";
import { isStage2Fault, Vcpu } from "../p2m/index.js";
import { attachMachine } from "../pagealloc/index.js";
import { spawnTsWorker } from "../threads/index.js";
import { runBaseline } from "./baseline.js";
import { CTL_STOP, G_PROGRESS, guestWord, newControl } from "./control.js";
import { PAGE } from "./layout.js";
import { orchestrate } from "./orchestrate.js";
import { type Plan, planRun } from "./plan.js";
import { ProgressBar } from "./progress.js";
import type { RunParams } from "./roles.js";
import type {
  BaselineResult,
  GuestResult,
  PageCountRun,
  PageCountView,
  Scenario,
  SimOptions,
  SimResult,
  SimSystem,
} from "./types.js";
import type { SimWorkerData, SimWorkerResult } from "./worker.js";

const WORKER = new URL("./worker.ts", import.meta.url);
const DEFAULT_COUNT = 10_000;

export async function simulate(
  system: SimSystem,
  scenario: Scenario,
  opts: SimOptions = {},
): Promise<SimResult> {
  const nonce = ((Math.random() * 2 ** 32) >>> 0) | 1;
  const plan = planRun(system, scenario, nonce);
  const destroy = scenario.destroy;
  if (destroy) {
    if (!system.destroyDomain) throw new SshmError("ESIM_SCENARIO", "destroy needs SimSystem.destroyDomain");
    if (destroy.afterMessages === undefined && destroy.afterMs === undefined)
      throw new SshmError("ESIM_SCENARIO", "destroy needs afterMessages or afterMs");
  }
  const timed = scenario.durationMs !== undefined;
  const count = timed ? 0 : (scenario.count ?? DEFAULT_COUNT);
  const n = plan.guests.length;
  const params: RunParams = {
    rings: plan.rings,
    guests: n,
    nonce,
    count,
    latencyEvery: Math.max(1, scenario.latencyEvery ?? 64),
    setupTimeoutMs: 30_000,
  };
  const ctl = newControl(n);
  const peerTimeoutMs = opts.peerTimeoutMs ?? 1000;
  const workers = plan.guests.map((g) => {
    const data: SimWorkerData = {
      machine: system.machine,
      p2m: g.participant.p2m,
      tlbBits: opts.tlbBits ?? 12,
      guest: {
        index: g.index,
        domid: g.domid,
        name: g.name,
        role: g.role,
        program: g.program,
        writes: g.writes,
        reads: g.reads,
      },
      params,
      dirBase: g.dirBase,
      ctl: ctl.buffer as SharedArrayBuffer,
      doorbell: scenario.doorbell ?? true,
      spinPolls: opts.spinPolls ?? 2000,
      peerTimeoutMs,
    };
    return spawnTsWorker(WORKER, data as unknown as Record<string, unknown>);
  });

  const destroyIdx = destroy ? plan.guests.findIndex((g) => g.domid === destroy.domid) : -1;
  let destroyed: { domid: number; atMs: number } | null = null;
  const producers = plan.guests.filter((g) => g.writes.length > 0 && g.program !== "responder").length;
  const bar = new ProgressBar(opts.progress ?? process.stderr.isTTY === true);
  const expected = count * Math.max(1, producers);
  const timeoutMs = opts.timeoutMs ?? 30_000 + (scenario.durationMs ?? 0);

  const onTick = (since: number): void => {
    if (destroy && destroyed === null) {
      const byMs = destroy.afterMs !== undefined && since >= destroy.afterMs;
      const byMsgs =
        destroy.afterMessages !== undefined &&
        (destroyIdx < 0 || Atomics.load(ctl, guestWord(destroyIdx, G_PROGRESS)) >= destroy.afterMessages);
      if (byMs || byMsgs) {
        system.destroyDomain!(destroy.domid);
        destroyed = { domid: destroy.domid, atMs: since };
      }
    }
    if (timed && since >= scenario.durationMs!) Atomics.store(ctl, CTL_STOP, 1);
    let done = 0;
    for (let i = 0; i < n; i++)
      if (plan.guests[i]!.writes.length > 0) done += Atomics.load(ctl, guestWord(i, G_PROGRESS));
    bar.update(since, timed ? since / scenario.durationMs! : expected > 0 ? done / expected : 0, done);
  };
  let out: Awaited<ReturnType<typeof orchestrate<SimWorkerResult>>>;
  try {
    out = await orchestrate<SimWorkerResult>(workers, ctl, {
      timeoutMs,
      onTick,
      tickMs: destroy?.afterMessages !== undefined ? 1 : 10,
    });
  } finally {
    bar.done();
  }

  const errors: string[] = [];
  const guests: GuestResult[] = plan.guests.map((g, i) => {
    const r = out.results[i]!;
    if (r instanceof Error) {
      errors.push(`d${g.domid} ${g.name}: worker died: ${r.message}`);
      return {
        domid: g.domid,
        name: g.name,
        role: g.role,
        status: "error",
        detail: `worker died: ${r.message}`,
        messages: 0,
        bytes: 0,
        elapsedMs: 0,
        msgsPerSec: 0,
        bytesPerSec: 0,
        latency: null,
        fault: null,
        gaveUpOn: [],
        tlb: { misses: 0, faults: 0, flushes: 0, resolved: 0 },
        p99WindowNs: null,
      };
    }
    const elapsedMs = Math.max(1e-6, r.endMs - r.startMs);
    return {
      domid: g.domid,
      name: g.name,
      role: g.role,
      status: r.status,
      detail: r.detail,
      messages: r.messages,
      bytes: r.bytes,
      elapsedMs,
      msgsPerSec: (r.messages * 1000) / elapsedMs,
      bytesPerSec: (r.bytes * 1000) / elapsedMs,
      latency: r.latency,
      fault: r.fault,
      gaveUpOn: r.gaveUpOn,
      tlb: r.tlb,
      p99WindowNs: r.windowP99Ns,
    };
  });
  judge(guests, destroyed, out.timedOut, timeoutMs, errors);
  const counted = system.pageCount ? countPages(system, plan) : null;
  const pageCounts = counted?.runs ?? null;

  let baselines: BaselineResult[] = [];
  if (opts.baselines) {
    const msgs = Math.max(
      1024,
      Math.min(200_000, ...guests.filter((g) => g.messages > 0).map((g) => g.messages)),
    );
    baselines = [
      await runBaseline("postMessage", scenario.size, msgs),
      await runBaseline("sab-ring", scenario.size, msgs),
    ];
  }
  return {
    scenario,
    region: plan.region.id,
    ok: errors.length === 0,
    errors,
    guests,
    rings: [...plan.ringReports],
    elapsedMs: out.goAt === null ? 0 : out.endAt - out.goAt,
    destroyed,
    pageCounts,
    pageCountsView: counted?.view ?? null,
    baselines,
  };
}

/** Which outcomes are failures: everything but ok, except what the destroy explains. */
function judge(
  guests: GuestResult[],
  destroyed: { domid: number } | null,
  timedOut: boolean,
  timeoutMs: number,
  errors: string[],
): void {
  if (timedOut) errors.push(`run timed out after ${timeoutMs} ms; workers were stopped`);
  for (const g of guests) {
    if (g.status === "ok" || g.detail.startsWith("worker died")) continue;
    const who = `d${g.domid} ${g.name} (${g.role})`;
    if (destroyed && g.domid === destroyed.domid && g.status === "fault") continue;
    if (destroyed && g.status === "stalled") continue;
    if (g.status === "stopped" && errors.length > 0) continue;
    errors.push(`${who}: ${g.status}: ${g.detail}`);
  }
  // Guests that gave up on a peer which was not destroyed lost traffic.
  for (const g of guests)
    for (const d of g.gaveUpOn)
      if (!destroyed || d !== destroyed.domid)
        errors.push(`d${g.domid} ${g.name}: gave up on d${d}, which was not destroyed`);
}

/**
 * Reference counts of the region's frames in runs: page by page through the owner's stage-2, or,
 * when no running domain owns the region (dom_io, bug B5), frame by frame over its host chunks.
 */
function countPages(system: SimSystem, plan: Plan): { runs: PageCountRun[]; view: PageCountView } | null {
  const owner = plan.region.participants.find((p) => p.role === "owner");
  const pageCount = system.pageCount;
  if (!pageCount) return null;
  if (!owner) {
    const host = plan.region.hostFrames;
    if (!host) return null;
    const runs: PageCountRun[] = [];
    let offset = 0;
    for (const c of host.chunks) {
      for (let mfn = c.start / PAGE; mfn < (c.start + c.size) / PAGE; mfn++, offset += PAGE) {
        const count = pageCount(mfn);
        const last = runs[runs.length - 1];
        if (last && last.count === count && last.mfn + last.pages === mfn) last.pages++;
        else runs.push({ offset, pages: 1, mfn, count });
      }
    }
    return { runs, view: { owner: host.owner, through: "host frames" } };
  }
  const m = attachMachine(system.machine);
  const v = new Vcpu(m.mem, owner.p2m, { tlbBits: 4 });
  const base = owner.offset ?? 0;
  const runs: PageCountRun[] = [];
  for (let i = 0; i < Math.ceil(owner.size / PAGE); i++) {
    let mfn = -1;
    let count = -1;
    try {
      mfn = Math.floor(v.translate(owner.gaddr + i * PAGE, "read") / PAGE);
      count = pageCount(mfn);
    } catch (e) {
      if (!isStage2Fault(e)) throw e;
    }
    const last = runs[runs.length - 1];
    if (last && last.count === count && (mfn < 0 ? last.mfn < 0 : last.mfn + last.pages === mfn))
      last.pages++;
    else runs.push({ offset: base + i * PAGE, pages: 1, mfn, count });
  }
  return { runs, view: { owner: owner.name, through: "stage-2" } };
}
