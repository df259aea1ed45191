/**
 * Scenario tests as data: every `fixtures/bad-configs/<name>.json` must be rejected by
 * `distillery validate`'s loader, and the error must contain each line of `<name>.expect`
 * (path, line number, suggestion).
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadJobConfig } from '@distillery/cli';

const dir = join(import.meta.dirname, 'fixtures', 'bad-configs');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('malformed configs get diagnosing errors', () => {
  it('has scenarios', () => expect(cases.length).toBeGreaterThanOrEqual(20));
  for (const file of cases) {
    it(file.replace(/\.json$/, ''), async () => {
      const expected = readFileSync(join(dir, file.replace(/\.json$/, '.expect')), 'utf8')
        .trim()
        .split('\n');
      let message = '';
      try {
        await loadJobConfig(join(dir, file));
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, 'the config should have been rejected').not.toBe('');
      for (const line of expected) expect(message).toContain(line);
    });
  }
});

describe('valid configs', () => {
  it('the embedded demo config validates (snake_case and camelCase mixed files too)', async () => {
    const demo = join(import.meta.dirname, '..', '..', 'examples', 'spam-demo', 'distillery.json');
    const { config } = await loadJobConfig(demo);
    expect(config.distillation.kdLossType).toBe('ce');
    expect(config.training.numEpochs).toBeGreaterThan(0);
  });
});
