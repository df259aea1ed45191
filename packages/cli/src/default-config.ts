import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The embedded demo config, shipped by the `@distillery/example-spam-demo` package. */
export function defaultConfigPath(): string {
  return require.resolve('@distillery/example-spam-demo/distillery.json');
}
