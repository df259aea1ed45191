/**
 * The projection shared by `linear`, `relu` and `tanh`: y = act(x·Wᵀ + b).
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  assertFloat,
  shapeToString,
  type PluginContext,
  type Projection,
  type ProjectionPlugin,
  type ProjectionSpec,
} from '@distillery/core';

/** Package version, stamped into `meta.version`. */
export const VERSION = '0.1.0';

/** Standard deviation of the N(0, σ) weight initialiser (BERT's initializer_range). */
export const INIT_STD = 0.02;

/** The non-linearity applied after the affine map. */
export type Activation = 'linear' | 'relu' | 'tanh';

/** Options read from `ProjectionSpec.options` (the match entry's `proj[3]`). */
export interface ProjectionOptions {
  /** Initial W, (dimT, dimS) (PyTorch layout), as a tensor or nested/flat numbers. Default: N(0, 0.02). */
  readonly weight?: tf.Tensor | number[] | number[][];
  /** Initial b, (dimT). Default: zeros. */
  readonly bias?: tf.Tensor | number[];
}

/** Deterministic 31-bit seed from a name (FNV-1a), so each match entry gets its own stream. */
export function seedFromName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

function initTensor(value: ProjectionOptions['weight'], shape: number[], what: string, where: string): tf.Tensor {
  const t = value instanceof tf.Tensor ? tf.cast(value, 'float32') : tf.tensor(value as number[], undefined, 'float32');
  const ok = t.size === tf.util.sizeFromShape(shape) && (t.rank === 1 || tf.util.arraysEqual(t.shape, shape));
  if (!ok) {
    const got = shapeToString(t.shape);
    t.dispose();
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `projection: options.${what} has shape ${got}, expected ${shapeToString(shape)}`,
      {
        where,
        hint: 'W is stored (dimT, dimS) like PyTorch nn.Linear.weight',
      },
    );
  }
  return tf.reshape(t, shape);
}

/**
 * Builds y = act(x·Wᵀ + b) with trainable `tf.variable`s `<spec.name>/weight` (dimT, dimS) and
 * `<spec.name>/bias` (dimT). W ~ N(0, 0.02) with seed `spec.seed` (default: derived from
 * `spec.name`), b = 0, unless `spec.options.weight/bias` give initial values.
 */
export function createProjection(activation: Activation, spec: ProjectionSpec, _ctx?: PluginContext): Projection {
  const where = spec.name;
  const { dimS, dimT, name } = spec;
  for (const [k, v] of [
    ['dimS', dimS],
    ['dimT', dimT],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new DistilleryError(
        'INVALID_INPUT',
        `projection "${activation}": ${k} must be a positive integer, got ${String(v)}`,
        { where },
      );
    }
  }
  if (typeof name !== 'string' || name.length === 0) {
    throw new DistilleryError(
      'INVALID_INPUT',
      `projection "${activation}": spec.name must be a non-empty string (it prefixes the variable names)`,
    );
  }
  const wName = `${name}/weight`;
  const bName = `${name}/bias`;
  for (const n of [wName, bName]) {
    // tfjs keeps one global variable namespace; a clash would otherwise throw a bare Error.
    if (tf.engine().registeredVariables[n]) {
      throw new DistilleryError('DUPLICATE_VARIABLE', `projection variable "${n}" already exists`, {
        where,
        hint: 'give each match entry a unique projection name, or dispose() the previous projection first',
      });
    }
  }
  const opts = (spec.options ?? {}) as ProjectionOptions;
  const seed = spec.seed ?? seedFromName(name);
  const W = tf.tidy(() =>
    tf.variable(
      opts.weight !== undefined
        ? initTensor(opts.weight, [dimT, dimS], 'weight', where)
        : tf.randomNormal([dimT, dimS], 0, INIT_STD, 'float32', seed),
      true,
      wName,
    ),
  );
  const b = tf.tidy(() =>
    tf.variable(opts.bias !== undefined ? initTensor(opts.bias, [dimT], 'bias', where) : tf.zeros([dimT]), true, bName),
  );
  return {
    variables: [W, b],
    apply(x: tf.Tensor): tf.Tensor {
      assertFloat(x, 'x', { op: `projection ${activation}`, where });
      if (x.rank < 1 || x.shape[x.rank - 1] !== dimS) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `projection ${activation}: input has shape ${shapeToString(x.shape)} but the projection maps last axis ${dimS} → ${dimT} (W ${shapeToString(W.shape)})`,
          { where, hint: 'proj is [kind, studentDim, teacherDim]; check studentDim against the student feature size' },
        );
      }
      return tf.tidy(() => {
        const flat = tf.reshape<tf.Rank.R2>(x, [-1, dimS]);
        const y = tf.add(tf.matMul(flat, W, false, true), b);
        const act = activation === 'relu' ? tf.relu(y) : activation === 'tanh' ? tf.tanh(y) : y;
        return tf.reshape(act, [...x.shape.slice(0, -1), dimT]);
      });
    },
    dispose(): void {
      W.dispose();
      b.dispose();
    },
  };
}

/** A projection plugin for one activation. */
export function projectionPlugin(activation: Activation, description: string): ProjectionPlugin {
  return {
    meta: { name: activation, version: VERSION, kind: 'projection', description },
    create: (spec, ctx) => createProjection(activation, spec, ctx),
  };
}
