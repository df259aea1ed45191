/**
 * `tf.variableGrads` with PyTorch's memory profile in the backward pass. tfjs keeps every tensor a tape node
 * saved for its gradient, and every intermediate gradient, until the whole backward pass ends; the step's peak
 * is then all activations plus all their gradients. Here each node's saved tensors and its outputs' gradients
 * are freed as soon as the node has been differentiated (its consumers all ran before it: the tape is walked
 * backwards), as autograd frees a node's buffers after its backward. Same gradients, same order of operations.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of a tfjs tape node used here (`engine.addTapeNode`). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The engine internals `engine.gradients` uses (tfjs-core 4.x). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
}

/**
 * The tape nodes on a path from `xs` to `y`, with inputs limited to those that depend on `xs` and outputs to
 * those `y` depends on (the nodes whose gradients matter).
 */
function nodesFromXToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodeToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    // Outputs keep their positions (the gradient function takes one dy per output; null = not on the path).
    out.push({ ...node, inputs });
  }
  return out;
}

/**
 * Like `tf.variableGrads(f, varList)`: the value of the scalar `f()` and its gradients with respect to the
 * trainable variables of `varList`, by name — computed while freeing what the backward pass no longer needs.
 */
export function variableGradsFreeing(
  f: () => tf.Scalar,
  varList: readonly tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const vars = varList.filter((v) => v.trainable);
  const eng = tf.engine() as unknown as EngineInternals;
  const y = eng.scopedRun(
    () => eng.startTape(),
    () => eng.endTape(),
    () => eng.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor) || y.rank !== 0)
    throw new Error('variableGradsFreeing: f() must return a scalar tensor');
  const tape = eng.state.activeTape ?? [];
  const nodes = nodesFromXToY(tape, vars, y);
  // Higher-order gradients (a tape still recording) need every saved tensor: free nothing then.
  const free = eng.state.gradientDepth === 0;
  return eng.tidy('backward', () => {
    const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    const keepIds = new Set(vars.map((v) => v.id));
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      if (!node.gradient)
        throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const inputGradients = node.gradient(dys);
      const stored = new Set<tf.Tensor>();
      const added: tf.Tensor[] = []; // gradients summed into an earlier one: spent once the node is done
      for (const [name, x] of Object.entries(node.inputs)) {
        const grad = inputGradients[name];
        if (!grad) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
        const dx = eng.tidy(grad);
        if (dx.dtype !== 'float32')
          throw new Error(
            `Error in gradient for op ${node.kernelName}: the gradient of input ${name} must be float32, not ${dx.dtype}`,
          );
        if (dx.shape.length !== x.shape.length || dx.shape.some((d, j) => d !== x.shape[j])) {
          throw new Error(
            `Error in gradient for op ${node.kernelName}: the gradient of input '${name}' has shape [${dx.shape.join(', ')}], not the input's [${x.shape.join(', ')}]`,
          );
        }
        const cur = acc.get(x.id);
        if (cur) {
          const sum = tf.add(cur, dx);
          stored.delete(cur);
          cur.dispose();
          added.push(dx);
          acc.set(x.id, sum);
          stored.add(sum);
        } else {
          acc.set(x.id, dx);
          stored.add(dx);
        }
      }
      if (!free) continue;
      // This node's consumers all ran before it: its outputs' gradients and its saved tensors are spent.
      // (A gradient function may return its dy itself: what is stored for an input is never freed here.)
      for (const t of node.saved ?? []) t.dispose();
      for (const dx of added) if (!stored.has(dx)) dx.dispose();
      node.outputs.forEach((o, k) => {
        const dy = dys[k];
        if (dy && !keepIds.has(o.id) && !stored.has(dy)) {
          dy.dispose();
          acc.delete(o.id);
        }
      });
    }
    const grads: tf.NamedTensorMap = {};
    for (const v of vars) {
      const g = acc.get(v.id);
      if (g) grads[v.name] = g;
    }
    // As tf.variableGrads: a non-trainable variable named in the list gets a null entry.
    for (const v of varList) if (!v.trainable) (grads as Record<string, tf.Tensor | null>)[v.name] = null;
    if (free) {
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      eng.state.activeTape = null;
    }
    return { value: y, grads };
  });
}
