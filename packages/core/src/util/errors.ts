/**
 * Errors that diagnose: every Distillery error names where (config path, file:line, match entry)
 * and, when it can, how to fix it (nearest valid name, expected shape).
 *
 * Every code lives in one catalogue, {@link ERROR_CODES} (the way Rollup keeps its log codes in
 * `utils/logs.ts`): `DistilleryError`'s constructor takes an {@link ErrorCode}, so a misspelt or
 * undocumented code does not compile, and callers can switch on `err.code` exhaustively. A new
 * code is one line here with what it means (a test checks that every code used in the repository
 * is listed and every listed code is used).
 */

/** The error-code catalogue: each code and what it means to the user who sees it. */
export const ERROR_CODES = {
  // Adaptors and models
  /** An adaptor returned an output without a field its caller needs (e.g. attention scores). */
  ADAPTOR_MISSING_OUTPUT: 'a model or adaptor output lacks a field that was asked for',
  /** An adaptor output failed the first-step validation (missing key, wrong rank, wrong head count). */
  ADAPTOR_OUTPUT: 'an adaptor output does not have the fields, ranks or heads the distiller needs',
  MISSING_WEIGHT: 'a checkpoint or weights file lacks a parameter the model needs',
  UNEXPECTED_WEIGHTS: 'weights were given that are not parameters of the model',
  MODEL_NOT_FOUND: 'no model (config.json / weights) at the given path',
  MODEL_UNSUPPORTED: 'the model folder holds a model of a kind this command cannot use',
  MODEL_UNSUPPORTED_FORMAT:
    'the weights are in a format that is not read here (pytorch_model.bin: convert to safetensors)',
  DUPLICATE_VARIABLE: 'a tfjs variable of that name already exists (names are engine-global)',
  CHECKPOINT_MISMATCH: 'a checkpoint does not match the model or projections it is loaded into',
  CHECKPOINT_INCOMPLETE: 'a checkpoint folder lacks a file a resume needs (model, projections, optimizer, state.json)',
  RESUME_NOTHING: '--resume found no complete checkpoint to continue from',
  RESUME_CONFIG_CHANGED: 'the config differs from the one the checkpoint was made with (--force accepts it)',
  RESUME_DATA_CHANGED: "the data differs from the checkpoint's (another number of batches per epoch)",
  // Configuration and command line
  CONFIG_INVALID: 'a config value, or a combination of values, is invalid',
  CONFIG_NOT_FOUND: 'the config file does not exist',
  USAGE: 'the command line is missing an argument or has an unknown one',
  // Plugins
  UNKNOWN_PLUGIN: 'no plugin of that kind and name is registered',
  PLUGIN_INVALID: 'a plugin object does not have the shape its kind requires',
  PLUGIN_CONFLICT: 'two plugins of the same kind claim the same name',
  PLUGIN_PACKAGE_NOT_FOUND: 'a plugin package listed in the config cannot be imported',
  PLUGIN_PACKAGE_INVALID: 'an imported plugin package does not export a plugin package',
  PLUGIN_REFUSED:
    'a plugin specifier is refused by the loading policy (URLs; paths outside the config folder without --allow-plugin)',
  REGISTRY_FROZEN: 'plugins were registered after training started',
  PLUGIN_FAILED: 'a loss, projection or scheduler plugin threw while it ran (the message names it and the config path)',
  HOOK_FAILED: 'a training hook or callback plugin threw (the message names the hook and where it came from)',
  // Tensors and losses
  SHAPE_MISMATCH: 'tensor shapes do not fit together',
  DTYPE_MISMATCH: 'a tensor has the wrong dtype (e.g. int32 where float32 is needed)',
  INVALID_INPUT: 'a function argument or option is out of its domain',
  NON_FINITE_LOSS: 'the loss became NaN or infinite during training',
  NON_FINITE_GRADIENT: 'a gradient became NaN or infinite before the optimizer step',
  GRAD_NORM_CEILING: 'the global gradient norm exceeded training.gradNormCeiling (a diverging run)',
  NON_FINITE_WEIGHTS: 'a model or checkpoint holds NaN or infinite weights',
  // Data, labels and tokenizers
  DATA_INVALID: 'a data record is malformed or lacks a field',
  DATA_FORMAT: 'a data file is of a format that is not supported',
  DATALOADER: 'the dataloader yielded fewer batches than it announced',
  LABELS_INVALID: 'a label list is malformed (duplicates, empty names)',
  UNKNOWN_LABEL: 'a label name is not in the label list',
  LABELS_MISMATCH: "data labels and a pretrained model's id2label/label2id do not agree",
  LABELS_TOO_FEW: 'the data has fewer than two labels (nothing to classify)',
  UNSEEN_TEST_LABEL: 'a test label never occurs in the training data or the label space',
  DATA_ENCODING: 'a data file is not valid in its declared text encoding (UTF-8 by default)',
  TOKENIZER_MISSING: 'no tokenizer files (tokenizer.json / vocab.txt) were found',
  TOKENIZER_OPTIONS: 'tokenizer options contradict each other',
  TOKENIZER_UNSUPPORTED: 'the tokenizer file uses a model or normalizer that is not supported',
  TOKENIZER_VOCAB: 'the vocabulary lacks a token the tokenizer needs',
  VOCAB_TOO_SMALL: 'the requested vocabulary size is below the special and character tokens',
  // Files and backends
  IO_READ_FAILED: 'a file could not be read',
  IO_WRITE_FAILED: 'a file could not be written',
  MEMORY_WONT_FIT:
    'the estimated memory of a training step exceeds what the backend can hold (batch, sequence length, teacher cache)',
  OUTPUT_LOCKED: "another run holds the output folder's lock",
  OUTPUT_IN_USE: 'the output folder holds an earlier run (use --resume or --overwrite)',
  SAFETENSORS_INVALID: 'a safetensors file is malformed',
  CASES_INVALID: 'a conformance case file is malformed',
  BACKEND_UNKNOWN: 'the requested tfjs backend name is not one Distillery knows',
  BACKEND_UNAVAILABLE: 'the requested tfjs backend is not installed or failed to load',
  FILE_NOT_FOUND: 'a file or folder named on the command line or in a config does not exist',
  // ONNX runtime, export and quantization
  MODEL_INVALID: 'a model file is not a valid model of the expected format (e.g. not ONNX, empty, a folder)',
  DISPOSED: 'a session or model was used after dispose()',
  ONNX_INPUT_MISSING: 'an ONNX graph input gets no value from the batch',
  ONNX_INPUT_UNKNOWN: 'a value was given for a name that is not an input of the ONNX graph',
  ONNX_OUTPUT_UNKNOWN: 'an output name asked for is not an output of the ONNX graph',
  ONNX_TOKENIZER_MISMATCH: 'the tokenizer does not fit the ONNX graph (input names or vocabulary size)',
  EXPORT_UNSUPPORTED: 'the model has a layer or architecture the exporter does not support',
  EXPORT_MISMATCH: 'an exported graph does not reproduce the source model within tolerance',
  QUANTIZE_NOTHING: 'the graph has nothing the requested quantization applies to (no MatMul/Gemm weights)',
  // Benchmark, report and search
  DATA_EMPTY: 'a data split has no examples',
  CLASSIFIER_OUTPUT: 'a classifier returned another number of predictions than it was given texts',
  MISSING_PACKAGE: 'an optional package the command needs is not installed',
  METRICS_INVALID: 'a metrics.jsonl line is not valid JSON',
  RESULTS_INVALID: 'a results.json file is malformed',
  RESULTS_EMPTY: 'a results.json file holds no models',
  SUMMARY_NO_BASELINE: 'a summary.json has no baseline block (run distill --baseline)',
  SEARCH_SPACE: 'a search space is empty or malformed',
  SEARCH_OBJECTIVE: "a search trial's run reported no objective value",
  SEARCH_NO_RESULT: 'no search trial completed',
  STUDY_INVALID: 'a study file cannot be read',
  STUDY_MISMATCH: 'a study file was made for another search space',
  STUDY_TRIAL: 'a trial number is not in the study',
  SEARCH_TRIAL_FAILED: 'a queued search trial failed on every attempt',
  QUEUE_UNKNOWN_JOB: 'a worker got a job kind it has no handler for',
  QUEUE_UNREACHABLE: 'the Redis server of --queue does not answer',
  QUEUE_FLOW_FAILED: 'a sharded job flow failed',
  QUEUE_CONFIG_CHANGED: "a queued job's config file changed after the job was submitted",
  QUEUE_NO_REDIS: 'redis-server is not installed or did not start',
} as const satisfies Record<string, string>;

/** Every machine-readable code a {@link DistilleryError} can carry (see {@link ERROR_CODES}). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is a catalogued {@link ErrorCode} (for codes read back from JSON or logs). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** Options of a {@link DistilleryError}: where the problem is, how to fix it, and its cause. */
export interface DistilleryErrorOptions {
  /** Where the problem is: a JSON path (`distillation.intermediateMatches[1].loss`), `file:line`, … */
  where?: string;
  /** A suggested fix. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
}

export class DistilleryError extends Error {
  /** Machine-readable code from the catalogue, e.g. `CONFIG_INVALID`, `UNKNOWN_PLUGIN`, `SHAPE_MISMATCH`. */
  readonly code: ErrorCode;
  /** Where the problem is: a JSON path (`distillation.intermediateMatches[1].loss`), `file:line`, … */
  readonly where?: string;
  /** A suggested fix. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, opts: DistilleryErrorOptions = {}) {
    const full = [opts.where ? `${opts.where}: ${message}` : message, opts.hint ? `  hint: ${opts.hint}` : '']
      .filter(Boolean)
      .join('\n');
    super(full, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'DistilleryError';
    this.code = code;
    this.where = opts.where;
    this.hint = opts.hint;
  }

  /** What the code means, from the catalogue. */
  get description(): string {
    return ERROR_CODES[this.code];
  }
}

/** Whether `e` is a {@link DistilleryError}, optionally of the given code. */
export function isDistilleryError(e: unknown, code?: ErrorCode): e is DistilleryError {
  return e instanceof DistilleryError && (code === undefined || e.code === code);
}

/** Levenshtein distance (small strings; used for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}

/** The candidate nearest to `name` (case- and `_`/`-`-insensitive), or undefined if none is close. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const target = norm(name);
  const list = [...candidates];
  // A unique prefix ("spam" → "spam-assassin") is a good guess even when the edit distance is large.
  const prefixed = target.length >= 3 ? list.filter((c) => norm(c).startsWith(target)) : [];
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of list) {
    const d = editDistance(target, norm(c));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(2, Math.ceil(target.length / 2)) ? best : undefined;
}

/** "did you mean" hint text, listing valid names when nothing is close. */
export function suggest(name: string, candidates: readonly string[]): string {
  const n = nearest(name, candidates);
  return n !== undefined
    ? `did you mean "${n}"? (valid: ${candidates.join(', ')})`
    : `valid names: ${candidates.join(', ')}`;
}
