/**
 * The page accounting Xen keeps in `struct domain`: tot_pages, max_pages, the page_list of pages the
 * domain owns, the resv_page_list where its static pages go when freed, and the domain reference
 * that pages hold while tot_pages > 0 (so a dying domain lives on until its last page is freed).
 */
import type { DomId } from "../common/index.js";
import { type PageLinks, PageList } from "./page-list.js";

export class DomainPages {
  readonly domid: DomId;
  totPages = 0;
  maxPages = 0;
  isDying = false;
  readonly pageList: PageList;
  readonly resvPageList: PageList;
  /** Xen's get_knownalive_domain() when tot_pages leaves 0; dropped when it returns to 0. */
  pagesHoldDomainRef = false;
  /** Called when the last page is freed and the pages' domain reference is dropped. */
  onLastPageFreed: (() => void) | undefined;

  constructor(domid: DomId, links: PageLinks) {
    this.domid = domid;
    this.pageList = new PageList(links);
    this.resvPageList = new PageList(links);
  }

  /** domain_adjust_tot_pages(): returns the new tot_pages. */
  adjustTotPages(delta: number): number {
    this.totPages += delta;
    return this.totPages;
  }
}
