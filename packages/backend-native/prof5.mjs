import { loadAddon } from './dist/index.js';
const addon = loadAddon();
const n = 2048*1024;
const buf = new ArrayBuffer(n*8); const x = new Float32Array(buf, 0, n); for (let i=0;i<n;i++) x[i]=((i*7919)%6000)/1000-3;
for (const th of [1,2]) { addon.setThreads(th);
for (const [name, op] of [['exp',0],['erf',1],['neg',5],['sigmoid',8]]) {
  let t0 = performance.now(); for (let i=0;i<20;i++) addon.unary(buf, op, 0, n*4, n);
  console.log(th, name, ((performance.now()-t0)/20).toFixed(2));
}}
