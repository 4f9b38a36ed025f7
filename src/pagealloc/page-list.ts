/**
 * Intrusive doubly-linked page lists, like Xen's `struct page_list_head`: the links live in two
 * per-frame arrays, so a page is on at most one list at a time (a buddy free list, a domain's
 * page_list or its resv_page_list) and list operations never allocate.
 */
export class PageLinks {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Id of the list a page is on; 0 = none. */
  readonly on: Int32Array;
  private lastId = 0;

  constructor(frames: number) {
    this.next = new Int32Array(frames);
    this.prev = new Int32Array(frames);
    this.on = new Int32Array(frames);
  }

  newListId(): number {
    return ++this.lastId;
  }
}

export class PageList {
  head = -1;
  tail = -1;
  length = 0;
  readonly id: number;

  constructor(private readonly links: PageLinks) {
    this.id = links.newListId();
  }

  has(pdx: number): boolean {
    return this.links.on[pdx] === this.id;
  }

  addTail(pdx: number): void {
    const { next, prev, on } = this.links;
    on[pdx] = this.id;
    next[pdx] = -1;
    prev[pdx] = this.tail;
    if (this.tail >= 0) next[this.tail] = pdx;
    else this.head = pdx;
    this.tail = pdx;
    this.length++;
  }

  addHead(pdx: number): void {
    const { next, prev, on } = this.links;
    on[pdx] = this.id;
    prev[pdx] = -1;
    next[pdx] = this.head;
    if (this.head >= 0) prev[this.head] = pdx;
    else this.tail = pdx;
    this.head = pdx;
    this.length++;
  }

  /** Unlink pdx, which must be on this list. */
  del(pdx: number): void {
    const { next, prev, on } = this.links;
    if (on[pdx] !== this.id) throw new Error(`page ${pdx} is not on list ${this.id}`);
    on[pdx] = 0;
    const n = next[pdx]!;
    const p = prev[pdx]!;
    if (p >= 0) next[p] = n;
    else this.head = n;
    if (n >= 0) prev[n] = p;
    else this.tail = p;
    next[pdx] = -1;
    prev[pdx] = -1;
    this.length--;
  }

  removeTail(): number {
    const t = this.tail;
    if (t >= 0) this.del(t);
    return t;
  }

  removeHead(): number {
    const h = this.head;
    if (h >= 0) this.del(h);
    return h;
  }

  /** The pages in list order (allocates; for reports and tests). */
  toArray(): number[] {
    const out: number[] = [];
    for (let p = this.head; p >= 0; p = this.links.next[p]!) out.push(p);
    return out;
  }
}
