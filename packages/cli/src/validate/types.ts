/** Shared types of the up-front config checks. */
import type { ConfigIssue, PluginRegistry, PluginResolveOptions } from '@distillery/core';
import type { JobConfig } from '../job/schema.js';

/** What the checks know about a config besides its contents. */
export interface CheckContext {
  /** The parsed config, its paths already absolute. */
  config: JobConfig;
  /** Folder of the config file (plugins resolve from here). */
  configDir: string;
  /** Plugin resolution options (config folder, working directory, `--allow-plugin`). */
  resolve: PluginResolveOptions;
  /** A registry holding the built-in plugins (never the config's own: validate runs no plugin code). */
  builtins: PluginRegistry;
}

/** A problem found; positions are added from the config text afterwards. */
export type Problem = ConfigIssue;
