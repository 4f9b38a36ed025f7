/** Host physical memory, the frame table, Xen's page reference counting and the page allocator. */
export * from "./allocator.js";
export * from "./domain-pages.js";
export * from "./frame-table.js";
export * from "./host-memory.js";
export * from "./machine.js";
export * from "./page-list.js";
export * from "./ram.js";
export * from "./xen-frametable.js";
