/**
 * Plain-data types shared by tokenizers, loaders and models.
 * @packageDocumentation
 */

/**
 * A padded batch of encoded texts, row-major (`[batchSize, seqLen]` flattened). Plain data, not
 * tensors: the model's `forward` makes tensors from it, inside the distiller's tidy/tape.
 */
export interface EncodedBatch {
  /** Token ids, `[PAD]` (0 for BERT) at padded positions. */
  inputIds: Int32Array;
  /** 1 = real token, 0 = padding. */
  attentionMask: Int32Array;
  /** Segment ids (all 0 for single sentences). */
  tokenTypeIds: Int32Array;
  /** Class ids, `[batchSize]` for sequence tasks or `[batchSize * seqLen]` (negative = ignore) for token tasks. */
  labels?: Int32Array;
  /** Real-valued targets `[batchSize]` (or `[batchSize * numLabels]`) for regression heads (`problem_type: "regression"`). */
  targets?: Float32Array;
  batchSize: number;
  seqLen: number;
  /**
   * Per-example identity (the example's text), in row order: what a teacher-output cache keys on
   * (with the row's token ids). Absent on batches made without it; such batches are not cached.
   */
  keys?: string[];
}

/** One encoded text (special tokens included, truncated, not padded). */
export interface Encoding {
  ids: number[];
  tokens: string[];
  typeIds: number[];
}

/** A raw example: a text and (for supervised data) its label name. */
export interface Example {
  text: string;
  label?: string;
}

/** Result of a file loader: the examples and how many bad rows were dropped (only with `dropInvalid`). */
export interface LoadedDataset {
  examples: Example[];
  /** Rows skipped because `dropInvalid` was set; 0 otherwise (bad rows throw by default). */
  dropped: number;
  /** `file:line` and reason of each dropped row (first 100). */
  droppedReasons: string[];
  /** Source file. */
  file: string;
}
