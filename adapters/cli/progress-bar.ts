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
  return {
    start(label, total, u = '') {
      unit = u;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} [{bar}] {percentage}% | {shown} | {rate} | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total ?? 0, 0, { shown: '', rate: '' });
    },
    tick(delta = 1) {
      bar?.increment(delta, payload(bar, unit));
    },
    update(value) {
      bar?.update(value, payload(bar, unit, value));
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function payload(bar: cliProgress.SingleBar, unit: string, value?: number) {
  const v = value ?? bar.getProgress() * bar.getTotal();
  const total = bar.getTotal();
  const elapsed = (Date.now() - (bar as unknown as { startTime: number }).startTime) / 1000;
  const rate = elapsed > 0 ? v / elapsed : 0;
  if (unit === 'bytes') return { shown: `${formatBytes(v)} / ${formatBytes(total)}`, rate: `${formatBytes(rate)}/s` };
  return { shown: `${Math.round(v)}/${total} ${unit}`, rate: `${rate.toFixed(1)} ${unit}/s` };
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
