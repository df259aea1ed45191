import { DistilleryError, suggest } from '../util/errors.js';
import { PLUGIN_KINDS, type Plugin, type PluginKind } from './types.js';

const NAME_RE = /^[a-z][a-z0-9_.-]*$/;

/** The member each kind of plugin must have. */
const REQUIRED_MEMBER: Record<PluginKind, string> = {
  'kd-loss': 'compute',
  'match-loss': 'compute',
  projection: 'create',
  'temperature-scheduler': 'create',
  'weight-scheduler': 'schedule',
  callback: 'hooks',
};

/** Throws `PLUGIN_INVALID` (naming `source`, the package) when `p` is not a well-formed plugin. */
export function validatePlugin(p: Plugin, source?: string): void {
  const m = p?.meta as Partial<Plugin['meta']> | undefined;
  const where = source ?? 'plugin';
  if (!m || typeof m.name !== 'string' || !NAME_RE.test(m.name)) {
    throw new DistilleryError(
      'PLUGIN_INVALID',
      `plugin meta.name must match ${NAME_RE} (got ${JSON.stringify(m?.name)})`,
      { where },
    );
  }
  if (!m.kind || !PLUGIN_KINDS.includes(m.kind)) {
    throw new DistilleryError('PLUGIN_INVALID', `plugin "${m.name}" has unknown meta.kind ${JSON.stringify(m.kind)}`, {
      where,
      hint: suggest(String(m.kind), PLUGIN_KINDS),
    });
  }
  if (typeof m.version !== 'string') {
    throw new DistilleryError('PLUGIN_INVALID', `plugin "${m.name}" needs meta.version`, { where });
  }
  const member = REQUIRED_MEMBER[m.kind];
  if ((p as unknown as Record<string, unknown>)[member] === undefined) {
    throw new DistilleryError('PLUGIN_INVALID', `${m.kind} plugin "${m.name}" must have "${member}"`, { where });
  }
}
