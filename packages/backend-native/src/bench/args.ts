/** `--key=value` / `--flag` arguments of the micro-benchmarks as a map (a bare flag maps to 'true'). */
export function benchArgs(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  return new Map(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k!, v ?? 'true'] as const;
    }),
  );
}
