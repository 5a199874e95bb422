#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner, in two
// phases: everything that needs no container runtime (two files at a time), then the
// real-container tests (test/containers) one file at a time, because they share one
// machine's containerd, bridges and mounts. Each phase has a hard time limit, so a stuck
// test fails the run instead of hanging it.
// Usage: node scripts/test.js [substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = walk(root)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/test (did the build run?)');
  process.exit(1);
}

const isContainerTest = (f) => f.includes('/test/containers/');
const phases = [
  { name: 'api, controllers, kubectl', files: files.filter((f) => !isContainerTest(f)), concurrency: 2, limitMin: 20 },
  { name: 'real containers', files: files.filter(isContainerTest), concurrency: 1, limitMin: 10 },
];

function run(phase) {
  return new Promise((resolve) => {
    if (phase.files.length === 0) return resolve(0);
    console.log(`\n== ${phase.name}: ${phase.files.length} test files`);
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${phase.concurrency}`, '--test-reporter=spec', ...phase.files], {
      stdio: 'inherit',
      detached: true,
    });
    const timer = setTimeout(() => {
      console.error(`\n== ${phase.name}: still running after ${phase.limitMin} minutes; stopping it (this counts as a failure)`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, phase.limitMin * 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

let failed = false;
for (const phase of phases) {
  const code = await run(phase);
  if (code !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
