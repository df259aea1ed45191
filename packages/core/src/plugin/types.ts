/**
 * The public plugin contract of Distillery.
 *
 * A plugin is a plain object made by a small factory (Rollup/Vite style) with a `meta` block.
 * Built-in losses, projections and schedulers use exactly this contract; a third-party npm
 * package does too, and registers through one entry point (see {@link PluginPackage}).
 *
 * Plugins never see the DI container: they get a {@link PluginContext} (tf, a logger bound to
 * their name, step info).
 *
 * @packageDocumentation
 */
import type * as tfc from '@tensorflow/tfjs-core';

/** Every kind of plugin the registry knows. Each kind has its own DI token. */
export type PluginKind =
  'kd-loss' | 'match-loss' | 'projection' | 'temperature-scheduler' | 'weight-scheduler' | 'callback';

/** All plugin kinds, in a stable order (used for listings). */
export const PLUGIN_KINDS: readonly PluginKind[] = [
  'kd-loss',
  'match-loss',
  'projection',
  'temperature-scheduler',
  'weight-scheduler',
  'callback',
] as const;

/** Identity of a plugin. `name` is what configs use (e.g. `"ce"`, `"hidden_mse"`). */
export interface PluginMeta<K extends PluginKind = PluginKind> {
  /** Name used in configs. Lower-case snake_case by convention. Unique per kind. */
  readonly name: string;
  /** Semver of the plugin (usually its package version). */
  readonly version: string;
  /** What the plugin is. */
  readonly kind: K;
  /** Other names accepted in configs (TextBrewer spellings such as `"gram"` for `"fsp"`). */
  readonly aliases?: readonly string[];
  /** One line for `distillery plugins`. */
  readonly description?: string;
  /** npm package that provided the plugin (filled in by the registry when loaded by package). */
  readonly package?: string;
}

/** Leveled logger; the one handed to a plugin is bound to its name. */
export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  /** A logger whose messages are prefixed with `name`. */
  child(name: string): Logger;
}

/** Where training is when a plugin is called. */
export interface StepInfo {
  /** Optimizer steps done so far (TextBrewer's `global_step`). */
  readonly globalStep: number;
  /** Total optimizer steps planned. */
  readonly totalSteps: number;
  /** 0-based epoch (0 in steps mode). */
  readonly epoch: number;
  /** globalStep / totalSteps, in [0, 1]. */
  readonly progress: number;
}

/** What every plugin function receives instead of the container. */
export interface PluginContext {
  /** The TensorFlow.js core API (same instance the engine uses). */
  readonly tf: typeof tfc;
  /** Logger bound to the plugin's name. */
  readonly logger: Logger;
  /** Training position; absent outside training (e.g. conformance runs). */
  readonly step?: StepInfo;
}

// ---------------------------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------------------------

/** Inputs of a KD loss on logits. */
export interface KdLossInput {
  /** Student logits, (B, C) or (N, C) after masking. */
  readonly logitsS: tfc.Tensor;
  /** Teacher logits, same shape as `logitsS`. */
  readonly logitsT: tfc.Tensor;
  /** A number, or a tensor of the logits' shape minus the class axis (per-row temperature). */
  readonly temperature: number | tfc.Tensor;
}

/**
 * A loss between student and teacher logits (`kdLossType` in the config: `ce`, `mse`, `kl`, …).
 * `compute` must return a scalar and must not dispose its inputs.
 */
export interface KdLossPlugin {
  readonly meta: PluginMeta<'kd-loss'>;
  compute(input: KdLossInput, ctx: PluginContext): tfc.Scalar;
}

/** Inputs of an intermediate-feature match loss. */
export interface MatchLossInput {
  /** Student feature (after projection): one tensor, or a pair for pair losses (fsp, nst). */
  readonly stateS: tfc.Tensor | readonly tfc.Tensor[];
  /** Teacher feature: one tensor, or a pair. */
  readonly stateT: tfc.Tensor | readonly tfc.Tensor[];
  /** Student-side (B, L) 0/1 mask of real tokens, if any. */
  readonly maskS?: tfc.Tensor;
  /** Teacher-side (B, L) mask, if any (TextBrewer uses the student mask for both; see {@link MatchLossPlugin}). */
  readonly maskT?: tfc.Tensor;
  /** Extra options from the match entry (`intermediateMatches[i].options`). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Human label of the match entry, for error messages (e.g. `intermediateMatches[2]`). */
  readonly where?: string;
}

/**
 * A loss between intermediate features (`intermediateMatches[].loss`: `hidden_mse`,
 * `attention_mse`, `cos`, `fsp`, …). Returns a scalar.
 *
 * Mask rule: a loss that takes one mask uses `maskS ?? maskT` when both sides have the same
 * length; the distiller passes each side's own mask.
 */
export interface MatchLossPlugin {
  readonly meta: PluginMeta<'match-loss'>;
  /** `'single'` (default): one tensor per side; `'pair'`: `layerS`/`layerT` are pairs (fsp, nst). */
  readonly arity?: 'single' | 'pair';
  /** Which feature kinds the loss is meant for (informational; used in validation hints). */
  readonly features?: readonly ('hidden' | 'attention')[];
  compute(input: MatchLossInput, ctx: PluginContext): tfc.Scalar;
}

// ---------------------------------------------------------------------------------------------
// Projections
// ---------------------------------------------------------------------------------------------

/** A trainable map student dim → teacher dim. Its variables are trained with the student. */
export interface Projection {
  /** Apply to the last axis of `x` (… , dimS) → (…, dimT). Called inside the step's tidy. */
  apply(x: tfc.Tensor): tfc.Tensor;
  /** Trainable variables (named uniquely; saved in checkpoints). */
  readonly variables: readonly tfc.Variable[];
  /** Free the variables. */
  dispose(): void;
}

/** Options to build a projection. */
export interface ProjectionSpec {
  readonly dimS: number;
  readonly dimT: number;
  /** Prefix for variable names (unique per match entry). */
  readonly name: string;
  /** Seed for the N(0, 0.02) initialiser. */
  readonly seed?: number;
  /** Extra options (`proj[3]` of a match entry, e.g. `{ lr }`). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Builds projections (`proj: ["linear", dimS, dimT]`). */
export interface ProjectionPlugin {
  readonly meta: PluginMeta<'projection'>;
  create(spec: ProjectionSpec, ctx: PluginContext): Projection;
}

// ---------------------------------------------------------------------------------------------
// Schedulers
// ---------------------------------------------------------------------------------------------

/** Computes the temperature for one head: a number or a per-row tensor (logits shape minus class axis). */
export type TemperatureFn = (logitsS: tfc.Tensor, logitsT: tfc.Tensor, baseTemperature: number) => number | tfc.Tensor;

/** Temperature scheduler (`temperatureScheduler: "flsw"` or `["flsw", {beta, gamma}]`). */
export interface TemperatureSchedulerPlugin {
  readonly meta: PluginMeta<'temperature-scheduler'>;
  /**
   * Names of TextBrewer-style positional arguments, in order: `["flsw", 1, 2]` becomes
   * `{ beta: 1, gamma: 2 }` when `params` is `["beta", "gamma"]`.
   */
  readonly params?: readonly string[];
  create(options: Readonly<Record<string, unknown>>, ctx: PluginContext): TemperatureFn;
}

/**
 * Weight scheduler (`kdLossWeightScheduler`, `hardLabelWeightScheduler`). Maps progress x in [0,1]
 * to a weight that **replaces** the configured one (TextBrewer semantics).
 */
export interface WeightSchedulerPlugin {
  readonly meta: PluginMeta<'weight-scheduler'>;
  schedule(x: number): number;
}

// ---------------------------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------------------------

/**
 * Awaited hooks, run in registration order (sequential dispatch) before the next step starts.
 * Use them for work that must finish first: evaluation, writing files.
 */
export interface CallbackHooks {
  trainBegin?(info: { totalSteps: number }, ctx: PluginContext): void | Promise<void>;
  epochBegin?(info: { epoch: number }, ctx: PluginContext): void | Promise<void>;
  stepEnd?(info: StepEndInfo, ctx: PluginContext): void | Promise<void>;
  /** After a checkpoint was written (TextBrewer's `callback(model, step)` point). */
  checkpoint?(info: { globalStep: number; path?: string }, ctx: PluginContext): void | Promise<void>;
  trainEnd?(info: { globalStep: number }, ctx: PluginContext): void | Promise<void>;
}

/** Per-step numbers reported to hooks and events. */
export interface StepEndInfo {
  readonly globalStep: number;
  readonly epoch: number;
  /** Weighted total loss of the step (mean over accumulated batches). */
  readonly loss: number;
  /** Unweighted per-term losses (`unweighted_kd_loss`, `unweighted_hidden_hidden_mse_4_6`, …). */
  readonly losses: Readonly<Record<string, number>>;
  readonly lr: number;
}

/** A callback plugin: a bag of awaited hooks. */
export interface CallbackPlugin {
  readonly meta: PluginMeta<'callback'>;
  readonly hooks: CallbackHooks;
}

/** Any plugin. */
export type Plugin =
  | KdLossPlugin
  | MatchLossPlugin
  | ProjectionPlugin
  | TemperatureSchedulerPlugin
  | WeightSchedulerPlugin
  | CallbackPlugin;

/** Maps a kind to its plugin type. */
export interface PluginByKind {
  'kd-loss': KdLossPlugin;
  'match-loss': MatchLossPlugin;
  projection: ProjectionPlugin;
  'temperature-scheduler': TemperatureSchedulerPlugin;
  'weight-scheduler': WeightSchedulerPlugin;
  callback: CallbackPlugin;
}

/**
 * What a plugin package exports as its one entry point (default export, or a named export
 * `distilleryPlugins`): a list of plugins, or a function returning one (it may read options).
 */
export interface PluginPackage {
  readonly name: string;
  readonly version: string;
  plugins(options?: Readonly<Record<string, unknown>>): readonly Plugin[];
}
