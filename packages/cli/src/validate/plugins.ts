/**
 * Plugin checks without running plugin code: every `plugins` entry resolves under the loading policy,
 * and the plugin names of the distillation section exist among the built-ins (names that a listed
 * plugin package may provide are checked by distill/train once the package is loaded).
 */
import { BUILTIN_PLUGIN_PACKAGES, checkPluginNames, DistilleryError, resolvePluginSpecifier } from '@distillery/core';
import { firstLine } from './models.js';
import type { CheckContext, Problem } from './types.js';

export function checkPlugins(ctx: CheckContext): Problem[] {
  const out: Problem[] = [];
  let resolved = 0;
  ctx.config.plugins.forEach((spec, i) => {
    const where = `plugins[${i}]`;
    // Built-in packages ship with the core and load from it (as the registry does).
    if (BUILTIN_PLUGIN_PACKAGES.includes(spec)) return;
    try {
      resolvePluginSpecifier(spec, ctx.resolve, where);
      resolved++;
    } catch (e) {
      if (!(e instanceof DistilleryError)) throw e;
      out.push({ path: where, message: firstLine(e, where), ...(e.hint ? { hint: e.hint } : {}) });
    }
  });
  const names = checkPluginNames(ctx.config.distillation, ctx.builtins);
  // With an extra plugin package that resolves, an unknown name may be its: only distill/train (which
  // load it) can tell. When none resolves, nothing can provide the name.
  out.push(...(resolved ? names.filter((p) => !p.message.startsWith('unknown ')) : names));
  return out;
}
