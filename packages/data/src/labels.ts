/**
 * Label name ↔ id maps.
 * @packageDocumentation
 */
import { DistilleryError, suggest } from '@distillery/core';

/** Python `sorted` order (by code point). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A bijection between label names and ids 0..size-1. */
export class LabelMap {
  private readonly ids: Map<string, number>;

  /** @param names label names by id */
  constructor(readonly names: readonly string[]) {
    this.ids = new Map();
    names.forEach((n, i) => {
      if (this.ids.has(n))
        throw new DistilleryError('LABELS_INVALID', `label "${n}" appears twice (ids ${this.ids.get(n)} and ${i})`);
      this.ids.set(n, i);
    });
  }

  /** Ids in sorted (alphabetical, code point) order of the distinct names — the teacher's labels.json order. */
  static fromLabels(labels: Iterable<string>): LabelMap {
    return new LabelMap([...new Set(labels)].sort(byCodePoint));
  }

  /** From a Hugging Face config's `id2label` (`{"0": "name", …}`). */
  static fromId2Label(id2label: Readonly<Record<string, string>>): LabelMap {
    const names: string[] = [];
    for (const [k, v] of Object.entries(id2label)) names[Number(k)] = v;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === undefined) throw new DistilleryError('LABELS_INVALID', `id2label has no entry for id ${i}`);
    }
    return new LabelMap(names);
  }

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.ids.has(name);
  }

  /** Id of a label; unknown names throw with a "did you mean" hint. `where` locates the row. */
  id(name: string, where?: string): number {
    const id = this.ids.get(name);
    if (id === undefined) {
      throw new DistilleryError('UNKNOWN_LABEL', `unknown label "${name}"`, {
        where,
        hint: suggest(
          name,
          this.names.length <= 20 ? this.names : this.names.filter((n) => n[0] === name[0]).slice(0, 20),
        ),
      });
    }
    return id;
  }

  name(id: number): string {
    const n = this.names[id];
    if (n === undefined) throw new DistilleryError('UNKNOWN_LABEL', `label id ${id} is outside 0..${this.size - 1}`);
    return n;
  }

  /** `id2label` / `label2id` for a Hugging Face config.json. */
  toHfConfig(): { id2label: Record<string, string>; label2id: Record<string, number> } {
    return {
      id2label: Object.fromEntries(this.names.map((n, i) => [String(i), n])),
      label2id: Object.fromEntries(this.names.map((n, i) => [n, i])),
    };
  }
}
