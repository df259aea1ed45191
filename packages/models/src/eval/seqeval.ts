/**
 * Entity-level precision, recall and F1 with seqeval's default (conlleval) semantics: IOB/IOB2/IOBES tags,
 * an `I-` that follows `O` or another type starts a new entity, sentences are joined with `O` between them.
 * @packageDocumentation
 */

/** An entity: type and inclusive token span over the joined sequence. */
export interface Entity {
  type: string;
  start: number;
  end: number;
}

function split(chunk: string): [string, string] {
  if (chunk === 'O' || chunk === '') return ['O', '_'];
  const tag = chunk[0]!;
  const rest = chunk.slice(1);
  // seqeval: type = chunk[1:].split('-', 1)[-1] or '_'
  const dash = rest.indexOf('-');
  const type = dash < 0 ? rest : rest.slice(dash + 1);
  return [tag, type || '_'];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** seqeval's `get_entities`: entities of one tag sequence, or of several sentences joined with `O`. */
export function getEntities(seq: readonly string[] | readonly (readonly string[])[]): Entity[] {
  const flat: string[] = Array.isArray(seq[0])
    ? (seq as string[][]).flatMap((s) => [...s, 'O'])
    : [...(seq as string[])];
  const out: Entity[] = [];
  let prevTag = 'O';
  let prevType = '_';
  let begin = 0;
  [...flat, 'O'].forEach((chunk, i) => {
    const [tag, type] = split(chunk);
    if (endOfChunk(prevTag, tag, prevType, type)) out.push({ type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  });
  return out;
}

/** Entity-level scores. */
export interface EntityScores {
  precision: number;
  recall: number;
  f1: number;
  /** Entities in the gold tags. */
  support: number;
  /** Per entity type. */
  byType: Record<string, { precision: number; recall: number; f1: number; support: number }>;
}

const prf = (tp: number, nPred: number, nTrue: number) => {
  const precision = nPred ? tp / nPred : 0;
  const recall = nTrue ? tp / nTrue : 0;
  return {
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    support: nTrue,
  };
};

/** Micro-averaged entity precision/recall/F1 (seqeval `f1_score` etc.) plus per-type scores. */
export function entityScores(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): EntityScores {
  if (gold.length !== pred.length)
    throw new Error(`entityScores: ${gold.length} gold sentences but ${pred.length} predicted`);
  const key = (e: Entity) => `${e.type}\u0000${e.start}\u0000${e.end}`;
  const g = getEntities(gold);
  const p = getEntities(pred);
  const pk = new Set(p.map(key));
  const tpAll = g.filter((e) => pk.has(key(e)));
  const types = [...new Set([...g, ...p].map((e) => e.type))].sort();
  const byType: EntityScores['byType'] = {};
  for (const t of types)
    byType[t] = prf(
      tpAll.filter((e) => e.type === t).length,
      p.filter((e) => e.type === t).length,
      g.filter((e) => e.type === t).length,
    );
  return { ...prf(tpAll.length, p.length, g.length), byType };
}

/**
 * Word-level tags from token-level predictions: each word takes the prediction of its first sub-token
 * (as the labels were aligned); words cut off by truncation are `O`.
 */
export function wordTagsFromTokens(
  wordIds: readonly (number | null)[],
  tokenPred: ArrayLike<number>,
  nWords: number,
  id2label: readonly string[],
): string[] {
  const out = new Array<string>(nWords).fill('O');
  let prev: number | null = null;
  wordIds.forEach((w, i) => {
    if (w !== null && w !== prev) out[w] = id2label[tokenPred[i]!] ?? 'O';
    prev = w;
  });
  return out;
}
