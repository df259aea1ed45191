#!/usr/bin/env node
// Prints the -march flag for the addon build (used by binding.gyp): x86-64-v3 (AVX2/FMA) or x86-64-v2 when the
// build machine supports them, nothing elsewhere. The addon is compiled on the machine that runs it; set
// DISTILLERY_NATIVE_MARCH (e.g. "x86-64" or "native") to override when building for another machine.
'use strict';
const { readFileSync } = require('node:fs');

function flag() {
  if (process.env.DISTILLERY_NATIVE_MARCH !== undefined) {
    return process.env.DISTILLERY_NATIVE_MARCH ? `-march=${process.env.DISTILLERY_NATIVE_MARCH}` : '';
  }
  if (process.arch !== 'x64') return '';
  let flags = '';
  try {
    flags = (/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8')) || [])[1] || '';
  } catch {
    return '';
  }
  const has = (f) => new RegExp(`\\b${f}\\b`).test(flags);
  if (['avx2', 'fma', 'bmi2', 'f16c', 'movbe'].every(has)) return '-march=x86-64-v3';
  if (['sse4_2', 'popcnt', 'ssse3'].every(has)) return '-march=x86-64-v2';
  return '';
}
// gyp needs a non-empty word: a no-op define when no -march applies.
process.stdout.write(flag() || '-DDISTILLERY_GENERIC_ARCH=1');
