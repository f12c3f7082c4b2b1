/**
 * A one-line progress bar on a terminal (redrawn in place), or a line every few seconds when the
 * output is a file or a pipe, so logs stay readable.
 */
export class ProgressLine {
  private total?: number;
  private lastPrinted = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
  ) {
    this.tty = (out as NodeJS.WriteStream).isTTY === true;
  }

  update(done: number, total?: number): void {
    if (total !== undefined) this.total = total;
    const now = Date.now();
    if (!this.tty && now - this.lastPrinted < 5000 && (this.total === undefined || done < this.total)) return;
    this.lastPrinted = now;
    this.out.write(`${this.tty ? '\r\x1b[2K' : ''}${this.render(done)}${this.tty ? '' : '\n'}`);
  }

  done(): void {
    if (this.tty) this.out.write('\n');
  }

  render(done: number): string {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = Math.round(done / seconds);
    if (!this.total) return `${this.label}: ${done.toLocaleString('en')} records (${rate.toLocaleString('en')}/s)`;
    const share = Math.min(1, done / this.total);
    const width = 30;
    const filled = Math.round(share * width);
    return `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0)}% ${done.toLocaleString('en')}/${this.total.toLocaleString('en')} records (${rate.toLocaleString('en')}/s)`;
  }
}
