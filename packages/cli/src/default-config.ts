import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The embedded demo config, shipped by the `@distillery/example-spam-demo` package. */
export function defaultConfigPath(): string {
  return require.resolve('@distillery/example-spam-demo/distillery.json');
}

/** A seconds-long bag-of-words MLP job on the same corpus (the demo before issue 15; tests derive quick configs from it). */
export function mlpDemoConfigPath(): string {
  return require.resolve('@distillery/example-spam-demo/mlp.json');
}
