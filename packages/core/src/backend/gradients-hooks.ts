/**
 * Node module hooks that let plain Node import tfjs-core's ESM sources (`dist/**.js`, extensionless relative
 * imports, in a package without `"type": "module"`), so `register_all_gradients.js` can be loaded outside a
 * bundler. Registered by {@link registerAllGradients}; inert for every other module.
 */
const TFJS_CORE_DIST = '/@tensorflow/tfjs-core/dist/';

interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface LoadContext {
  format?: string | null;
  conditions?: string[];
}
interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}

/** Resolve extensionless relative imports inside tfjs-core's dist to their `.js` files. */
export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (s: string, c: ResolveContext) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  if (context.parentURL?.includes(TFJS_CORE_DIST) && specifier.startsWith('.') && !/\.(c|m)?js$/.test(specifier)) {
    return next(`${specifier}.js`, context);
  }
  return next(specifier, context);
}

/** Load tfjs-core's dist sources (not the CJS node bundle) as ES modules. */
export async function load(
  url: string,
  context: LoadContext,
  next: (u: string, c: LoadContext) => Promise<LoadResult>,
): Promise<LoadResult> {
  if (
    url.startsWith('file:') &&
    url.includes(TFJS_CORE_DIST) &&
    url.endsWith('.js') &&
    !url.endsWith('/tf-core.node.js')
  ) {
    return next(url, { ...context, format: 'module' });
  }
  return next(url, context);
}
