/** What the run reports while it works; the CLI supplies the implementation (spinner on a TTY, plain lines otherwise). */
export interface Progress {
  /** A new phase ("scenario throughput"). */
  phase(text: string): void;
  /** Transient detail ("throughput/llada/b1 run 2/3"); not printed in plain mode. */
  detail(text: string): void;
  /** A line that stays (case done, warning). */
  line(text: string): void;
  stop(): void;
}
