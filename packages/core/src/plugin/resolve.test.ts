import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePluginSpecifier } from './resolve.js';

describe('resolvePluginSpecifier', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resolve-'));
  mkdirSync(join(dir, 'cfg', 'lib'), { recursive: true });
  writeFileSync(join(dir, 'cfg', 'lib', 'p.js'), 'export default {}');
  writeFileSync(join(dir, 'other.js'), 'export default {}');
  const opts = { configDir: join(dir, 'cfg'), cwd: join(dir, 'cfg') };

  it('refuses URLs of every scheme, before looking at the file system', () => {
    for (const s of [
      'data:text/javascript,1',
      'file:///etc/passwd',
      'http://x/y.js',
      'https://x/y.js',
      'node:fs',
      'blob:abc',
    ])
      expect(() => resolvePluginSpecifier(s, opts, 'plugins[0]')).toThrow(/is a URL/);
  });

  it('resolves a relative path inside the config folder, with or without the extension', () => {
    expect(resolvePluginSpecifier('./lib/p.js', opts).file).toBe(join(dir, 'cfg', 'lib', 'p.js'));
    expect(resolvePluginSpecifier('./lib/p', opts)).toMatchObject({
      kind: 'path',
      file: join(dir, 'cfg', 'lib', 'p.js'),
    });
  });

  it('refuses absolute and escaping paths unless allowed (a file or a folder above it), or typed by the user', () => {
    expect(() => resolvePluginSpecifier(join(dir, 'other.js'), opts)).toThrow(/absolute path/);
    expect(() => resolvePluginSpecifier('../other.js', opts)).toThrow(/leaves the config's folder/);
    expect(() => resolvePluginSpecifier('./lib/../../other.js', opts)).toThrow(/leaves the config's folder/);
    expect(resolvePluginSpecifier('../other.js', { ...opts, allow: [join(dir, 'other.js')] }).file).toBe(
      join(dir, 'other.js'),
    );
    expect(resolvePluginSpecifier(join(dir, 'other.js'), { ...opts, allow: [dir] }).file).toBe(join(dir, 'other.js'));
    expect(resolvePluginSpecifier(join(dir, 'other.js'), { ...opts, trusted: true }).file).toBe(join(dir, 'other.js'));
    expect(() => resolvePluginSpecifier('data:,1', { ...opts, trusted: true })).toThrow(/is a URL/);
  });

  it('names a missing package and how to install it; refuses what is neither a name nor a path', () => {
    expect(() => resolvePluginSpecifier('distillery-plugin-nope', opts, 'plugins[1]')).toThrow(
      /plugins\[1\]: cannot load plugin package "distillery-plugin-nope"[\s\S]*npm install distillery-plugin-nope/,
    );
    expect(() => resolvePluginSpecifier('lib/p.js', opts)).toThrow(
      /cannot load plugin package[\s\S]*write "\.\/lib\/p\.js"/,
    );
    expect(() => resolvePluginSpecifier('C:\\x\\p.js', opts)).toThrow(/absolute path/);
    expect(() => resolvePluginSpecifier('UPPER', opts)).toThrow(/neither an npm package name nor a relative path/);
  });
});
