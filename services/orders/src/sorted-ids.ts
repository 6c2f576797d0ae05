// Order ids kept in text order (= creation order, see order-ids.ts), for paging newest first
// without sorting on every request. New ids are nearly always the greatest, so insertion is an
// append in the common case and a binary-search splice otherwise.

export class SortedIds {
  readonly #ids: string[] = [];

  get size(): number {
    return this.#ids.length;
  }

  add(id: string): void {
    const at = this.#lowerBound(id);
    if (this.#ids[at] !== id) this.#ids.splice(at, 0, id);
  }

  remove(id: string): void {
    const at = this.#lowerBound(id);
    if (this.#ids[at] === id) this.#ids.splice(at, 1);
  }

  /** Up to `count` ids older than `before` ('' for the newest), newest first; and whether more follow. */
  newestBefore(before: string, count: number): { ids: string[]; more: boolean } {
    let at = (before === '' ? this.#ids.length : this.#lowerBound(before)) - 1;
    const ids: string[] = [];
    while (at >= 0 && ids.length < count) ids.push(this.#ids[at--]!);
    return { ids, more: at >= 0 };
  }

  /** The first position whose id is not less than `id`. */
  #lowerBound(id: string): number {
    let low = 0;
    let high = this.#ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#ids[mid]! < id) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
