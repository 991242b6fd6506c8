/**
 * Renders core Progress on stderr: a live bar with rate and ETA on a terminal, and a few plain
 * lines (every 10%) when stderr is a file or a pipe, so logs stay readable.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../../src/progress.js';

function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) return ttyBar(stream);
  return plainLines(stream);
}

function ttyBar(stream: NodeJS.WriteStream): Progress {
  let bar: cliProgress.SingleBar | undefined;
  let unit = '';
  let total = 0;
  let value = 0;
  let started = 0;
  const shown = () => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? value / secs : 0;
    if (unit === 'bytes') return { shown: `${formatBytes(value)} / ${formatBytes(total)}`, rate: `${formatBytes(rate)}/s` };
    return { shown: `${value}/${total} ${unit}`, rate: `${rate.toFixed(1)} ${unit}/s` };
  };
  return {
    start(label, t, u = '') {
      unit = u;
      total = t ?? 0;
      value = 0;
      started = Date.now();
      bar = new cliProgress.SingleBar(
        { stream, format: `${label} [{bar}] {percentage}% | {shown} | {rate} | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, shown());
    },
    tick(delta = 1) {
      value += delta;
      bar?.update(value, shown());
    },
    update(v) {
      value = v;
      bar?.update(value, shown());
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function plainLines(stream: NodeJS.WriteStream): Progress {
  let label = '';
  let total = 0;
  let done = 0;
  let unit = '';
  let nextReport = 0;
  let started = 0;
  const report = () => {
    const secs = (Date.now() - started) / 1000;
    const shown = unit === 'bytes' ? `${formatBytes(done)} / ${formatBytes(total)}` : `${done}/${total} ${unit}`;
    stream.write(`${label}: ${shown} (${secs.toFixed(1)} s)\n`);
  };
  const advance = () => {
    if (total > 0 && done >= nextReport) {
      report();
      nextReport = Math.min(total, done + Math.ceil(total / 10));
      if (done >= total) nextReport = Infinity;
    }
  };
  return {
    start(l, t, u = '') {
      label = l;
      total = t ?? 0;
      unit = u;
      done = 0;
      started = Date.now();
      nextReport = Math.ceil(total / 10);
      stream.write(`${label}: ${total} ${unit}\n`);
    },
    tick(delta = 1) {
      done += delta;
      advance();
    },
    update(value) {
      done = value;
      advance();
    },
    stop() {
      if (nextReport !== Infinity && total > 0) report();
    },
  };
}
