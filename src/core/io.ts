/** Where a command writes: every command gets one, so tests and `run` can capture what it says. */
export interface Io {
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Set when stdout is a terminal: replaces the whole screen with `text` (a live view). */
  redraw?: (text: string) => void;
}
