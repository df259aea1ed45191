/**
 * Where a config's `plugins` entries may come from. A config file is data; loading a plugin runs
 * code, so only what the user evidently intends is accepted:
 *
 * - an npm package name (`distillery-plugin-x`, `@scope/pkg`, with an optional subpath), resolved from
 *   the config file's folder, then the working directory — never from the core's own install folder;
 * - a relative path (`./plugins/mine.js`) inside the config file's folder tree.
 *
 * URLs (`data:`, `file:`, `http:`, `node:` …) are refused; absolute paths and relative paths that leave
 * the config's folder are refused unless listed with `--allow-plugin` (a file or a folder above it).
 * Resolving never imports: `validate` checks plugins without running their code.
 * @packageDocumentation
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, win32 } from 'node:path';
import { DistilleryError } from '../util/errors.js';

/** Options of {@link resolvePluginSpecifier}. */
export interface PluginResolveOptions {
  /** Folder of the config file that lists the plugin. @default process.cwd() */
  configDir?: string;
  /** Working directory (second place packages are looked up). @default process.cwd() */
  cwd?: string;
  /** Files or folders outside `configDir` from which plugins may be loaded (`--allow-plugin`). @default [] */
  allow?: readonly string[];
  /** The user typed the specifier (CLI `--plugin`): any path is intended, URLs are still refused. @default false */
  trusted?: boolean;
}

/** A plugin specifier resolved to a module file (not yet imported). */
export interface ResolvedPlugin {
  /** The entry as written. */
  specifier: string;
  /** `package`: an npm name; `path`: a file path. */
  kind: 'package' | 'path';
  /** Absolute path of the module file that will be imported. */
  file: string;
  /** Package name and version from the nearest package.json, when there is one. */
  packageName?: string;
  version?: string;
}

const URL_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
const PKG_RE = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(\/[A-Za-z0-9._~/-]+)?$/;

function refuse(spec: string, where: string | undefined, message: string, hint: string): never {
  throw new DistilleryError(
    'PLUGIN_REFUSED',
    `plugin ${JSON.stringify(spec.length > 80 ? spec.slice(0, 77) + '...' : spec)} ${message}`,
    { where, hint },
  );
}

function inside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** The entry file of a package folder: `exports["."]` (import/node/default conditions), `main`, index.js. */
function packageEntry(dir: string, subpath: string): string | undefined {
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    exports?: unknown;
    main?: string;
    module?: string;
  };
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (Array.isArray(e)) return e.map(pick).find(Boolean);
    if (e && typeof e === 'object') {
      for (const c of ['import', 'node', 'default', 'require']) {
        const hit = pick((e as Record<string, unknown>)[c]);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  const key = subpath ? `./${subpath}` : '.';
  if (pj.exports !== undefined) {
    const ex = pj.exports as Record<string, unknown>;
    const sugar = typeof ex === 'string' || Array.isArray(ex) || !Object.keys(ex).some((k) => k.startsWith('.'));
    const target = pick(sugar ? (key === '.' ? ex : undefined) : ex[key]);
    return target ? resolve(dir, target) : undefined;
  }
  if (subpath) return fileOf(resolve(dir, subpath));
  return fileOf(resolve(dir, pj.main ?? pj.module ?? 'index.js'));
}

/** A file, or a file with a JS extension added, or a folder's package entry / index.js. */
function fileOf(p: string): string | undefined {
  for (const c of [p, `${p}.js`, `${p}.mjs`, `${p}.cjs`]) if (existsSync(c) && statSync(c).isFile()) return c;
  if (existsSync(p) && statSync(p).isDirectory()) {
    if (existsSync(join(p, 'package.json'))) return packageEntry(p, '');
    return fileOf(join(p, 'index'));
  }
  return undefined;
}

/** Name and version of the nearest package.json above `file`. */
function owningPackage(file: string): { packageName?: string; version?: string } {
  for (let d = dirname(file); ; d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        const j = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; version?: string };
        if (j.name || j.version) return { packageName: j.name, version: j.version };
      } catch {
        return {};
      }
    }
    if (dirname(d) === d) return {};
  }
}

/** Find the folder of package `name` in the node_modules lookup chain of `fromDir`. */
function findPackageDir(name: string, fromDir: string): string | undefined {
  const req = createRequire(join(fromDir, '__distillery_plugin_lookup__.js'));
  for (const nm of req.resolve.paths(name) ?? []) {
    const d = join(nm, name);
    if (existsSync(join(d, 'package.json'))) return d;
  }
  return undefined;
}

/**
 * Resolve one `plugins` entry to the module file that would be imported, applying the policy above.
 * Imports nothing. Throws `PLUGIN_REFUSED` (a form that is not allowed) or `PLUGIN_PACKAGE_NOT_FOUND`.
 */
export function resolvePluginSpecifier(spec: string, opts: PluginResolveOptions = {}, where?: string): ResolvedPlugin {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const configDir = resolve(opts.configDir ?? cwd);
  const isPath =
    spec.startsWith('./') ||
    spec.startsWith('../') ||
    spec === '.' ||
    spec === '..' ||
    spec.startsWith('.\\') ||
    spec.startsWith('..\\');
  const absolute = isAbsolute(spec) || win32.isAbsolute(spec);
  if (!absolute && URL_RE.test(spec)) {
    refuse(
      spec,
      where,
      'is a URL: plugins load only from npm packages or files inside the config folder',
      'install the plugin as an npm package and list its name, or copy it next to the config and list "./file.js"',
    );
  }
  if (isPath || absolute) {
    const target = resolve(configDir, spec);
    const allowed = opts.trusted || (opts.allow ?? []).some((a) => inside(real(target), real(resolve(cwd, a))));
    if (!allowed && absolute) {
      refuse(
        spec,
        where,
        'is an absolute path',
        `use a path relative to the config's folder (${configDir}), or allow it explicitly: --allow-plugin ${spec}`,
      );
    }
    if (!allowed && !inside(real(target), real(configDir))) {
      refuse(
        spec,
        where,
        `leaves the config's folder (${configDir})`,
        `move the plugin under that folder, or allow it explicitly: --allow-plugin ${target}`,
      );
    }
    const file = fileOf(target);
    if (!file) {
      throw new DistilleryError(
        'PLUGIN_PACKAGE_NOT_FOUND',
        `plugin file ${JSON.stringify(spec)} does not exist (looked for ${target})`,
        { where, hint: 'fix the path (relative paths are relative to the config file)' },
      );
    }
    return { specifier: spec, kind: 'path', file, ...owningPackage(file) };
  }
  if (!PKG_RE.test(spec)) {
    refuse(
      spec,
      where,
      'is neither an npm package name nor a relative path',
      'use a package name ("distillery-plugin-x", "@scope/pkg") or "./path/inside/the/config/folder.js"',
    );
  }
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = parts.slice(spec.startsWith('@') ? 2 : 1).join('/');
  for (const from of [...new Set([configDir, cwd])]) {
    const dir = findPackageDir(name, from);
    if (!dir) continue;
    const file = packageEntry(dir, subpath);
    if (!file || !existsSync(file)) {
      throw new DistilleryError('PLUGIN_PACKAGE_INVALID', `plugin package "${spec}" has no importable entry point`, {
        where,
        hint: `check "exports"/"main" in ${join(dir, 'package.json')} (and that the package is built)`,
      });
    }
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string };
    return { specifier: spec, kind: 'package', file, packageName: name, version: pj.version };
  }
  // "lib/p.js" reads as package "lib"; a file of that name beside the config was surely meant.
  const asPath = fileOf(resolve(configDir, spec))
    ? ` — or, for the file ${resolve(configDir, spec)}, write "./${spec}"`
    : '';
  throw new DistilleryError(
    'PLUGIN_PACKAGE_NOT_FOUND',
    `cannot load plugin package "${spec}": not installed where the config is (${configDir})${cwd !== configDir ? ` nor in ${cwd}` : ''}`,
    {
      where,
      hint: `install it (npm install ${name}) or remove it from "plugins"${asPath}`,
    },
  );
}
