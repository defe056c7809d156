// Training-curve picture of a run's metrics: loss per step and validation loss.
import { linePlot } from '../viz/index.js';
import { MetricsLog } from './metrics-log.js';

export async function writeTrainingCurve(metricsPath: string, pngPath: string, title: string): Promise<void> {
  const records = new MetricsLog(metricsPath).read();
  const train = records.filter((r) => typeof r.loss === 'number');
  const val = records.filter((r) => typeof r.valLoss === 'number');
  if (train.length === 0) return;
  // a running mean keeps the curve readable at small batch sizes
  const window = Math.max(1, Math.floor(train.length / 50));
  const smooth = train.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    const part = train.slice(from, i + 1);
    return part.reduce((s, r) => s + (r.loss as number), 0) / part.length;
  });
  const series = [{ name: 'train loss', x: train.map((r) => r.step), y: smooth }];
  if (val.length) series.push({ name: 'validation loss', x: val.map((r) => r.step), y: val.map((r) => r.valLoss as number) });
  const canvas = linePlot({ series, title, xLabel: 'step', yLabel: 'cross-entropy', width: 640, height: 400 });
  await canvas.savePng(pngPath);
}
