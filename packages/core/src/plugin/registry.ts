import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, suggest } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import {
  LOGGER_TOKEN,
  PLUGIN_CONTEXT_TOKEN,
  PLUGIN_TOKENS,
  REGISTRY_TOKEN,
  STEP_TOKEN,
  pluginToken,
  type PluginContextFactory,
} from './tokens.js';
import { resolvePluginSpecifier, type PluginResolveOptions } from './resolve.js';
import { validatePlugin } from './validate-plugin.js';
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
 * third-party packages (no private shortcuts), and `@distillery/core` declares each of them as a
 * dependency, so they resolve from the core's own install rather than by workspace hoisting.
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

/**
 * The context factory every registry tree installs at its top: it reads the logger and the step from the
 * container that resolves it, so a run's child container (own logger, own step) scopes what plugins see.
 */
function contextFactory(c: DependencyContainer): PluginContextFactory {
  return (name, step) => {
    const logger = c.resolve(LOGGER_TOKEN).child(name);
    const ctx: { tf: typeof tf; logger: Logger; step?: StepInfo } = { tf, logger };
    if (step) ctx.step = step;
    // No explicit step: the scope's current step, read when the plugin looks (callbacks keep their context).
    else Object.defineProperty(ctx, 'step', { enumerable: true, get: () => c.resolve(STEP_TOKEN) });
    return ctx;
  };
}

/** Options of {@link PluginRegistry}. */
export interface PluginRegistryOptions {
  /** The registry (or bare container) this one is a child of. @default tsyringe's root container */
  parent?: PluginRegistry | DependencyContainer;
  /** Logger of this scope; plugins get `logger.child(pluginName)`. @default the parent's, else createLogger() */
  logger?: Logger;
}

/**
 * The plugin registry: a facade over a tsyringe child container, which is the one store of plugins
 * (factory providers under the kind tokens and name tokens of `./tokens.ts`). `child()` gives a run its own
 * scope — child container, logger, step info, its own registrations and freeze — that still resolves the
 * parent's plugins. Frozen once training starts.
 */
export class PluginRegistry {
  /** The DI container of this scope. Tests swap a plugin by registering another provider under {@link pluginToken}. */
  readonly container: DependencyContainer;
  readonly logger: Logger;
  private readonly parent?: PluginRegistry;
  // Package bookkeeping only (which entry points were imported); the plugins themselves live in the container.
  private readonly loadedPackages = new Set<string>();
  private isFrozen = false;
  private stepInfo?: StepInfo;

  constructor(opts: PluginRegistryOptions = {}) {
    this.parent = opts.parent instanceof PluginRegistry ? opts.parent : undefined;
    const parentContainer = opts.parent instanceof PluginRegistry ? opts.parent.container : opts.parent;
    this.container = (parentContainer ?? rootContainer).createChildContainer();
    this.logger = opts.logger ?? this.parent?.logger ?? createLogger();
    this.container.register(LOGGER_TOKEN, { useValue: this.logger });
    this.container.register(REGISTRY_TOKEN, { useValue: this });
    this.container.register(STEP_TOKEN, { useFactory: () => this.stepInfo });
    if (!this.container.isRegistered(PLUGIN_CONTEXT_TOKEN, true))
      this.container.register(PLUGIN_CONTEXT_TOKEN, { useFactory: contextFactory });
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

  /** Training position seen by plugins of this scope (set by the training loop before each batch). */
  setStep(step: StepInfo | undefined): this {
    this.stepInfo = step;
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
      validatePlugin(p, opts.source);
      const kind = p.meta.kind;
      const names = [p.meta.name, ...(p.meta.aliases ?? [])];
      for (const n of names) {
        const prev = this.has(kind, n) ? this.get(kind, n) : undefined;
        if (prev && prev !== p && !opts.override) {
          throw new DistilleryError(
            'PLUGIN_CONFLICT',
            `${kind} plugin name "${n}" is already registered (by ${prev.meta.package ?? prev.meta.name}@${prev.meta.version})`,
            { where: opts.source, hint: 'rename the plugin, or register with { override: true } to replace it' },
          );
        }
      }
      const withPkg =
        opts.source && !p.meta.package ? ({ ...p, meta: { ...p.meta, package: opts.source } } as Plugin) : p;
      // Widened so one line serves every kind; the token's type is the kind's plugin type.
      const provider = { useFactory: () => withPkg };
      this.container.register(PLUGIN_TOKENS[kind] as InjectionToken<Plugin>, provider);
      for (const n of names) this.container.register(pluginToken(kind, n) as InjectionToken<Plugin>, provider);
    }
    return this;
  }

  /** Register every plugin of a package entry point. */
  use(pkg: PluginPackage, options?: Readonly<Record<string, unknown>>): this {
    if (this.isLoaded(pkg.name)) return this;
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
    if (this.isLoaded(specifier)) return this;
    const builtin = BUILTIN_PLUGIN_PACKAGES.includes(specifier);
    // Resolution refuses URLs and paths outside the config's folder before any code runs.
    const resolved = builtin ? undefined : resolvePluginSpecifier(specifier, opts, where);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(resolved ? pathToFileURL(resolved.file).href : specifier)) as Record<string, unknown>;
    } catch (e) {
      throw new DistilleryError(
        'PLUGIN_PACKAGE_NOT_FOUND',
        `cannot load plugin package "${specifier}": ${(e as Error).message}`,
        {
          where,
          hint: resolved
            ? `the module ${resolved.file} failed to import; fix or rebuild it`
            : `install it (npm install ${specifier}) or remove it from "plugins"`,
          cause: e,
        },
      );
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

  /** Whether a plugin of `kind` answers to `name` (or alias) in this scope or a parent. */
  has(kind: PluginKind, name: string): boolean {
    return this.container.isRegistered(pluginToken(kind, name), true);
  }

  /**
   * The plugin of `kind` named `name` (or an alias), resolved through this scope's container. Throws
   * `UNKNOWN_PLUGIN` naming `where` (a config path) and the nearest valid name.
   */
  get<K extends PluginKind>(kind: K, name: string, where?: string): PluginByKind[K] {
    if (!this.has(kind, name)) {
      throw new DistilleryError('UNKNOWN_PLUGIN', `unknown ${kind} plugin "${name}"`, {
        where,
        hint: suggest(name, this.names(kind)),
      });
    }
    return this.container.resolve(pluginToken(kind, name));
  }

  /** All accepted names (canonical + aliases) of a kind. */
  names(kind: PluginKind): string[] {
    const names = new Set<string>();
    for (const p of this.registered(kind)) for (const n of [p.meta.name, ...(p.meta.aliases ?? [])]) names.add(n);
    return [...names].sort();
  }

  /** Registered plugins, optionally of one kind: each canonical name once, as the container resolves it now. */
  list<K extends PluginKind>(kind: K): PluginByKind[K][];
  list(): Plugin[];
  list(kind?: PluginKind): Plugin[] {
    const out = new Set<Plugin>();
    for (const k of kind ? [kind] : PLUGIN_KINDS) {
      // An overridden plugin resolves to its replacement, which is listed once.
      for (const p of this.registered(k)) out.add(this.get(k, p.meta.name));
    }
    return [...out];
  }

  /** A child registry (one run's scope): resolves this one's plugins, can add its own and be frozen alone. */
  child(logger?: Logger): PluginRegistry {
    return new PluginRegistry({ parent: this, logger: logger ?? this.logger });
  }

  /**
   * The context object handed to a plugin, built by the container's {@link PLUGIN_CONTEXT_TOKEN} factory:
   * tf, this scope's logger bound to the plugin's name, and `step` (or this scope's current step).
   */
  context(plugin: Plugin | string, step?: StepInfo): PluginContext {
    const name = typeof plugin === 'string' ? plugin : plugin.meta.name;
    return this.container.resolve(PLUGIN_CONTEXT_TOKEN)(name, step);
  }

  /** Every provider registered under the kind token, parents first (tsyringe's own lookup stops at the nearest scope). */
  private registered(kind: PluginKind): Plugin[] {
    const token = PLUGIN_TOKENS[kind] as InjectionToken<Plugin>;
    const inherited = this.parent ? this.parent.registered(kind) : [];
    const own = this.container.isRegistered(token, this.parent === undefined) ? this.container.resolveAll(token) : [];
    return [...inherited, ...own];
  }

  private isLoaded(pkg: string): boolean {
    return this.loadedPackages.has(pkg) || (this.parent?.isLoaded(pkg) ?? false);
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
