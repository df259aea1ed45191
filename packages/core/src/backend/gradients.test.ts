import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { gradientsRegistered, registerAllGradients } from './gradients.js';

describe('registerAllGradients', () => {
  it('registers the tfjs gradients (vitest path)', async () => {
    await registerAllGradients();
    expect(gradientsRegistered()).toBe(true);
  });

  it('lets plain Node import tfjs-core gradients through the module hooks', () => {
    // Compile the hooks as they ship (dist/backend/gradients-hooks.js) and use them from a plain Node process.
    const src = readFileSync(fileURLToPath(new URL('./gradients-hooks.ts', import.meta.url)), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dir = mkdtempSync(join(tmpdir(), 'distillery-hooks-'));
    writeFileSync(join(dir, 'hooks.mjs'), js);
    const script = [
      "import { register, createRequire } from 'node:module';",
      `register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});`,
      `const require = createRequire(${JSON.stringify(import.meta.url)});`,
      "const tf = require('@tensorflow/tfjs-core');",
      "require('@tensorflow/tfjs-backend-cpu');",
      "const { pathToFileURL } = await import('node:url');",
      "await import(pathToFileURL(require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')).href);",
      "await tf.setBackend('cpu');",
      'console.log(JSON.stringify(Array.from(tf.grad((x) => tf.sum(tf.square(x)))(tf.tensor([1, 2, 3])).dataSync())));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, VITEST: '' },
    });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout.trim().split('\n').pop()).toBe('[2,4,6]');
  });
});
