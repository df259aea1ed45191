import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, suggest } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { PLUGIN_TOKENS, LOGGER_TOKEN, REGISTRY_TOKEN } from './tokens.js';
import { resolvePluginSpecifier, type PluginResolveOptions } from './resolve.js';
import {
  PLUGIN_KINDS,
  type Logger,
  type Plugin,
  type PluginByKind,
  type PluginContext,
  type PluginKind,
  type PluginPackage,
  type StepInfo,
} from './types.js';

/**
 * npm packages of the built-in plugins. They are loaded by name through the same path as
 * third-party packages (no private shortcuts).
 */
export const BUILTIN_PLUGIN_PACKAGES: readonly string[] = [
  '@distillery/plugin-loss-kd',
  '@distillery/plugin-loss-hidden-mse',
  '@distillery/plugin-loss-attention',
  '@distillery/plugin-loss-cosine',
  '@distillery/plugin-loss-relation',
  '@distillery/plugin-projections',
  '@distillery/plugin-schedulers',
];

/** Helper for plugin packages: gives the entry point its type. */
export function definePluginPackage(pkg: PluginPackage): PluginPackage {
  return pkg;
}

const NAME_RE = /^[a-z][a-z0-9_.-]*$/;

/**
 * The plugin registry: one per run (a child of the process-wide one), backed by a tsyringe
 * child container with one token per plugin kind. Frozen once training starts.
 */
export class PluginRegistry {
  /** @internal the DI container (an implementation detail of the core). */
  readonly container: DependencyContainer;
  readonly logger: Logger;
  private readonly byKind = new Map<PluginKind, Map<string, Plugin>>();
  private readonly canonical = new Map<PluginKind, Map<string, Plugin>>();
  private readonly loadedPackages = new Set<string>();
  private isFrozen = false;

  constructor(opts: { parent?: DependencyContainer; logger?: Logger } = {}) {
    this.container = (opts.parent ?? rootContainer).createChildContainer();
    this.logger = opts.logger ?? createLogger();
    this.container.register(LOGGER_TOKEN, { useValue: this.logger });
    this.container.register(REGISTRY_TOKEN, { useValue: this });
    for (const k of PLUGIN_KINDS) {
      this.byKind.set(k, new Map());
      this.canonical.set(k, new Map());
    }
  }

  /** True once {@link freeze} was called: no more registrations. */
  get frozen(): boolean {
    return this.isFrozen;
  }

  /** Refuse further registrations (called when training starts). */
  freeze(): this {
    this.isFrozen = true;
    return this;
  }

  /** Register plugins. Names (and aliases) must be unique per kind unless `override` is set. */
  register(plugins: Plugin | readonly Plugin[], opts: { override?: boolean; source?: string } = {}): this {
    if (this.isFrozen) {
      throw new DistilleryError('REGISTRY_FROZEN', 'the plugin set is frozen once training starts', {
        hint: 'register plugins before calling train(), or list them in the config\'s "plugins"',
      });
    }
    for (const p of Array.isArray(plugins) ? (plugins as readonly Plugin[]) : [plugins as Plugin]) {
      this.validateMeta(p, opts.source);
      const names = [p.meta.name, ...(p.meta.aliases ?? [])];
      const table = this.byKind.get(p.meta.kind)!;
      for (const n of names) {
        const prev = table.get(n);
        if (prev && prev !== p && !opts.override) {
          throw new DistilleryError(
            'PLUGIN_CONFLICT',
            `${p.meta.kind} plugin name "${n}" is already registered (by ${prev.meta.package ?? prev.meta.name}@${prev.meta.version})`,
            { where: opts.source, hint: 'rename the plugin, or register with { override: true } to replace it' },
          );
        }
      }
      const withPkg = opts.source && !p.meta.package ? ({ ...p, meta: { ...p.meta, package: opts.source } } as Plugin) : p;
      for (const n of names) table.set(n, withPkg);
      this.canonical.get(p.meta.kind)!.set(p.meta.name, withPkg);
      this.container.register(PLUGIN_TOKENS[p.meta.kind] as never, { useValue: withPkg });
    }
    return this;
  }

  /** Register every plugin of a package entry point. */
  use(pkg: PluginPackage, options?: Readonly<Record<string, unknown>>): this {
    if (this.loadedPackages.has(pkg.name)) return this;
    this.register(pkg.plugins(options), { source: pkg.name });
    this.loadedPackages.add(pkg.name);
    return this;
  }

  /**
   * Import a plugin package and register its plugins (default export or `distilleryPlugins`). Built-in
   * packages load from the core; anything else goes through {@link resolvePluginSpecifier} first
   * (npm names from the config's folder or the working directory, relative paths inside the config's
   * folder, no URLs; see `opts`), and the log names the module loaded and its version.
   */
  async load(specifier: string, where?: string, opts: PluginResolveOptions = {}): Promise<this> {
    if (this.loadedPackages.has(specifier)) return this;
    const builtin = BUILTIN_PLUGIN_PACKAGES.includes(specifier);
    // Resolution refuses URLs and paths outside the config's folder before any code runs.
    const resolved = builtin ? undefined : resolvePluginSpecifier(specifier, opts, where);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(resolved ? pathToFileURL(resolved.file).href : specifier)) as Record<string, unknown>;
    } catch (e) {
      throw new DistilleryError('PLUGIN_PACKAGE_NOT_FOUND', `cannot load plugin package "${specifier}": ${(e as Error).message}`, {
        where,
        hint: resolved ? `the module ${resolved.file} failed to import; fix or rebuild it` : `install it (npm install ${specifier}) or remove it from "plugins"`,
        cause: e,
      });
    }
    const pkg = (mod.distilleryPlugins ?? mod.default) as PluginPackage | undefined;
    if (!pkg || typeof pkg.plugins !== 'function') {
      throw new DistilleryError('PLUGIN_PACKAGE_INVALID', `"${specifier}" has no Distillery entry point`, {
        where,
        hint: 'export default definePluginPackage({ name, version, plugins: () => [...] }) (or a named export distilleryPlugins)',
      });
    }
    const name = pkg.name ?? resolved?.packageName ?? specifier;
    const version = pkg.version ?? resolved?.version ?? 'unknown';
    if (resolved) this.logger.info(`plugin module ${name}@${version} loaded from ${resolved.file}`);
    else this.logger.debug(`built-in plugin module ${name}@${version}`);
    this.use({ ...pkg, name });
    this.loadedPackages.add(specifier);
    return this;
  }

  /** Load the built-in plugin packages. */
  async loadBuiltins(): Promise<this> {
    for (const p of BUILTIN_PLUGIN_PACKAGES) await this.load(p);
    return this;
  }

  /** Whether a plugin of `kind` answers to `name` (or alias). */
  has(kind: PluginKind, name: string): boolean {
    return this.byKind.get(kind)!.has(name);
  }

  /**
   * The plugin of `kind` named `name` (or an alias). Throws `UNKNOWN_PLUGIN` naming `where`
   * (a config path) and the nearest valid name.
   */
  get<K extends PluginKind>(kind: K, name: string, where?: string): PluginByKind[K] {
    const p = this.byKind.get(kind)!.get(name);
    if (!p) {
      throw new DistilleryError('UNKNOWN_PLUGIN', `unknown ${kind} plugin "${name}"`, {
        where,
        hint: suggest(name, this.names(kind)),
      });
    }
    return p as PluginByKind[K];
  }

  /** All accepted names (canonical + aliases) of a kind. */
  names(kind: PluginKind): string[] {
    return [...this.byKind.get(kind)!.keys()].sort();
  }

  /** Registered plugins (canonical entries), optionally of one kind, resolved through the container. */
  list<K extends PluginKind>(kind: K): PluginByKind[K][];
  list(): Plugin[];
  list(kind?: PluginKind): Plugin[] {
    const kinds = kind ? [kind] : PLUGIN_KINDS;
    const out: Plugin[] = [];
    for (const k of kinds) {
      // Widen the kind-specific token so one loop serves every kind.
      const token = PLUGIN_TOKENS[k] as InjectionToken<Plugin>;
      if (!this.container.isRegistered(token, true)) continue;
      const all = this.container.resolveAll(token);
      const canon = this.canonical.get(k)!;
      out.push(...[...new Set(all)].filter((p) => canon.get(p.meta.name) === p));
    }
    return out;
  }

  /** A child registry (for one run) holding the same plugins; it can add its own and be frozen alone. */
  child(logger?: Logger): PluginRegistry {
    const c = new PluginRegistry({ parent: this.container, logger: logger ?? this.logger });
    for (const p of this.list()) c.register(p, { override: true });
    for (const n of this.loadedPackages) c.loadedPackages.add(n);
    return c;
  }

  /** The context object handed to a plugin: tf, logger bound to its name, step info. */
  context(plugin: Plugin | string, step?: StepInfo): PluginContext {
    const name = typeof plugin === 'string' ? plugin : plugin.meta.name;
    return { tf, logger: this.logger.child(name), ...(step ? { step } : {}) };
  }

  private validateMeta(p: Plugin, source?: string): void {
    const m = p?.meta as Partial<Plugin['meta']> | undefined;
    const where = source ?? 'plugin';
    if (!m || typeof m.name !== 'string' || !NAME_RE.test(m.name)) {
      throw new DistilleryError('PLUGIN_INVALID', `plugin meta.name must match ${NAME_RE} (got ${JSON.stringify(m?.name)})`, { where });
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
    const need: Record<PluginKind, string> = {
      'kd-loss': 'compute',
      'match-loss': 'compute',
      projection: 'create',
      'temperature-scheduler': 'create',
      'weight-scheduler': 'schedule',
      callback: 'hooks',
    };
    const member = need[m.kind];
    if ((p as unknown as Record<string, unknown>)[member] === undefined) {
      throw new DistilleryError('PLUGIN_INVALID', `${m.kind} plugin "${m.name}" must have "${member}"`, { where });
    }
  }
}

/** A registry with the built-in plugins loaded. */
export async function createRegistry(
  opts: {
    builtins?: boolean;
    /** Plugin packages or paths to load (a config's `plugins`). */
    plugins?: readonly string[];
    logger?: Logger;
    /** Where `plugins` resolve from and what is allowed (see {@link resolvePluginSpecifier}). @default the working directory */
    resolve?: PluginResolveOptions;
  } = {},
): Promise<PluginRegistry> {
  const r = new PluginRegistry({ logger: opts.logger });
  if (opts.builtins !== false) await r.loadBuiltins();
  for (const [i, p] of (opts.plugins ?? []).entries()) await r.load(p, `plugins[${i}]`, opts.resolve);
  return r;
}
