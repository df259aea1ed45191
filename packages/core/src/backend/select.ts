/**
 * Run-time selection of the fastest tfjs backend present: tfjs-node-gpu / tfjs-node ('tensorflow'),
 * @distillery/backend-native ('native', when its OpenBLAS addon is built), then 'wasm', then 'cpu'.
 * Optional packages are loaded with dynamic `import()`, so core does not depend on them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '../util/errors.js';
import { registerAllGradients } from './gradients.js';
import { registerSegmentSumKernels } from './segment-sum.js';
import { registerWasmMatMulKernels } from './wasm-matmul.js';
import { configureWasmPaths } from './wasm-paths.js';

/** Backends Distillery knows, fastest first. */
export const BACKEND_PREFERENCE = ['tensorflow', 'native', 'wasm', 'cpu'] as const;
/** A backend name accepted by {@link initBackend}. */
export type BackendName = (typeof BACKEND_PREFERENCE)[number];

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backend to use instead of the fastest one (also `DISTILLERY_BACKEND`; the option wins). */
  backend?: string;
  /** Receives the one line naming the active backend. Default: stderr. */
  logger?: { info(msg: string): void };
}

/** What a probe found out about one backend. */
export interface BackendProbe {
  name: BackendName;
  available: boolean;
  /** When available: what it runs on (e.g. "OpenBLAS 0.3.21, 2 threads"); otherwise why it is unavailable. */
  detail: string;
}

const dynamicImport = (spec: string): Promise<Record<string, unknown>> =>
  import(spec) as Promise<Record<string, unknown>>;

function reasonOf(err: unknown, pkg: string): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url/i.test(e?.message ?? '')) {
    return `${pkg} is not installed`;
  }
  return `${pkg} failed to load: ${(e?.message ?? String(err)).split('\n')[0]}`;
}

async function probeTensorflow(): Promise<BackendProbe> {
  const reasons: string[] = [];
  const candidates = [
    ['@tensorflow/tfjs-node-gpu', 'libtensorflow, GPU'],
    ['@tensorflow/tfjs-node', 'libtensorflow, CPU'],
  ] as const;
  for (const [pkg, what] of candidates) {
    try {
      await dynamicImport(pkg);
      if (tf.findBackendFactory('tensorflow'))
        return { name: 'tensorflow', available: true, detail: `${pkg}: ${what}` };
      reasons.push(`${pkg} did not register the 'tensorflow' backend`);
    } catch (err) {
      reasons.push(reasonOf(err, pkg));
    }
  }
  return { name: 'tensorflow', available: false, detail: reasons.join('; ') };
}

async function probeNative(): Promise<BackendProbe> {
  try {
    const mod = await dynamicImport('@distillery/backend-native');
    const registerNative = mod.registerNativeBackend as () => boolean;
    if (registerNative()) return { name: 'native', available: true, detail: (mod.describeNative as () => string)() };
    return { name: 'native', available: false, detail: (mod.nativeUnavailableReason as () => string)() };
  } catch (err) {
    // A misconfiguration (e.g. an unknown DISTILLERY_POOL) is the user's to fix, not a reason to fall back to wasm.
    if ((err as { name?: string }).name === 'DistilleryError') throw err;
    return { name: 'native', available: false, detail: reasonOf(err, '@distillery/backend-native') };
  }
}

async function probeWasm(): Promise<BackendProbe> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    configureWasmPaths();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { name: 'wasm', available: true, detail: simd ? 'XNNPACK, SIMD' : 'XNNPACK, no SIMD' };
  } catch (err) {
    return { name: 'wasm', available: false, detail: reasonOf(err, '@tensorflow/tfjs-backend-wasm') };
  }
}

async function probeCpu(): Promise<BackendProbe> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    return { name: 'cpu', available: true, detail: 'plain JavaScript' };
  } catch (err) {
    return { name: 'cpu', available: false, detail: reasonOf(err, '@tensorflow/tfjs-backend-cpu') };
  }
}

const PROBES: Record<BackendName, () => Promise<BackendProbe>> = {
  tensorflow: probeTensorflow,
  native: probeNative,
  wasm: probeWasm,
  cpu: probeCpu,
};

let probed: Promise<BackendProbe[]> | undefined;

/** Probe every known backend once (loads what is installed; activates nothing). */
export function probeBackends(): Promise<BackendProbe[]> {
  probed ??= (async () => {
    const out: BackendProbe[] = [];
    for (const name of BACKEND_PREFERENCE) out.push(await PROBES[name]());
    // Kernel fixes for what loaded: scatter-add UnsortedSegmentSum (cpu's is O(vocab) per row; wasm has none).
    registerSegmentSumKernels(['cpu', 'wasm']);
    registerSegmentSumKernels(['native'], true);
    // wasm's BatchMatMul/_FusedMatMul run transposed or batched products in a naive loop: route them to XNNPACK.
    // Only 'wasm' itself: 'native' copied the stock kernels above (probeNative runs first) and has its own BLAS ones.
    registerWasmMatMulKernels();
    return out;
  })();
  return probed;
}

function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

let active: { name: BackendName; line: string } | undefined;

/** The backend made active by {@link initBackend}, if any. */
export function activeBackend(): BackendName | undefined {
  return active?.name;
}

function summary(probes: BackendProbe[]): string {
  return probes
    .map((p) => (p.available ? `${p.name} (${p.detail})` : `${p.name}: unavailable (${p.detail})`))
    .join('; ');
}

/**
 * Pick and activate the fastest tfjs backend present (or the one requested by `opts.backend` /
 * `DISTILLERY_BACKEND`), register the kernel fixes and gradients, and log one line naming it.
 * Idempotent: later calls return the active backend without logging, unless they request another one.
 * @returns the active backend's name ('tensorflow' | 'native' | 'wasm' | 'cpu').
 * @throws DistilleryError BACKEND_UNKNOWN / BACKEND_UNAVAILABLE listing the backends available here.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<string> {
  // "auto" (the config default) means: the environment's choice, else the fastest present.
  const option = opts.backend?.trim().toLowerCase() === 'auto' ? undefined : opts.backend;
  const requested = (option ?? process.env.DISTILLERY_BACKEND ?? '').trim().toLowerCase() || undefined;
  if (active && (requested === undefined || requested === active.name)) return active.name;
  const probes = await probeBackends();
  const available = probes.filter((p) => p.available);
  const availableNames = available.map((p) => p.name).join(', ') || 'none';
  let choice: BackendProbe | undefined;
  let why: string;
  if (requested !== undefined) {
    if (!(BACKEND_PREFERENCE as readonly string[]).includes(requested)) {
      throw new DistilleryError('BACKEND_UNKNOWN', `unknown tfjs backend "${requested}"`, {
        where: option !== undefined ? 'training.backend' : 'DISTILLERY_BACKEND',
        hint: `use one of ${BACKEND_PREFERENCE.join(', ')}; available here: ${availableNames}`,
      });
    }
    choice = probes.find((p) => p.name === requested);
    if (!choice?.available) {
      throw new DistilleryError(
        'BACKEND_UNAVAILABLE',
        `tfjs backend "${requested}" is not available: ${choice?.detail ?? ''}`,
        {
          where: option !== undefined ? 'training.backend' : 'DISTILLERY_BACKEND',
          hint: `available here: ${availableNames}. All backends: ${summary(probes)}`,
        },
      );
    }
    why = 'requested';
  } else {
    choice = available[0];
    if (!choice)
      throw new DistilleryError('BACKEND_UNAVAILABLE', `no tfjs backend could be loaded: ${summary(probes)}`);
    const skipped = probes.slice(0, probes.indexOf(choice)).map((p) => `${p.name}: ${p.detail}`);
    why = skipped.length ? `fastest available; ${skipped.join('; ')}` : 'fastest available';
  }
  if (!(await tf.setBackend(choice.name))) {
    throw new DistilleryError('BACKEND_UNAVAILABLE', `tfjs backend "${choice.name}" failed to initialise`, {
      hint: `available here: ${availableNames}`,
    });
  }
  // tfjs-cpu prints a banner recommending tfjs-node on first use; the log line below says it all.
  if (choice.name === 'cpu') silenceCpuBanner();
  await registerAllGradients();
  const line = `tfjs backend: ${choice.name} (${choice.detail}) [${why}]`;
  (opts.logger ?? { info: (m: string) => process.stderr.write(`[distillery] ${m}\n`) }).info(line);
  active = { name: choice.name, line };
  return choice.name;
}
