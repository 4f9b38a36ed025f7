/**
 * A machine: host RAM, its frame table and its page allocator, created together. The hypervisor
 * thread owns the allocator; worker threads attach to the same memory and frame table through a
 * structured-cloneable handle (they can read, write and get/put references, but not allocate).
 */
import { type AllocatorOptions, PageAllocator } from "./allocator.js";
import { FrameTable, type FrameTableHandle } from "./frame-table.js";
import { HostMemory, type HostMemoryHandle } from "./host-memory.js";
import { type RamBank, RamMap } from "./ram.js";

export interface MachineHandle {
  readonly memory: HostMemoryHandle;
  readonly frames: FrameTableHandle;
}

export class Machine {
  readonly ram: RamMap;
  readonly mem: HostMemory;
  readonly frames: FrameTable;
  readonly alloc: PageAllocator;

  constructor(banks: readonly RamBank[], opts: AllocatorOptions = {}) {
    this.ram = new RamMap(banks);
    this.mem = new HostMemory(this.ram);
    this.frames = new FrameTable(this.ram);
    this.alloc = new PageAllocator(this.frames, opts);
  }

  share(): MachineHandle {
    return { memory: this.mem.share(), frames: this.frames.share() };
  }
}

/** What a worker thread sees of a machine: memory and frame table, no allocator. */
export interface AttachedMachine {
  readonly ram: RamMap;
  readonly mem: HostMemory;
  readonly frames: FrameTable;
}

export function attachMachine(h: MachineHandle): AttachedMachine {
  const mem = HostMemory.attach(h.memory);
  return { ram: mem.ram, mem, frames: new FrameTable(mem.ram, h.frames) };
}
