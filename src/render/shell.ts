/**
 * POSIX shell quoting. Every value we put on a generated command line goes through `quote`, so
 * no text from a plan can end the argument it sits in.
 */
export function quote(value: string): string {
  if (value.includes("\0")) throw new Error("a shell argument cannot contain a NUL character");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line from a program name and arguments, each argument quoted. */
export function commandLine(program: string, ...args: string[]): string {
  return [program, ...args.map(quote)].join(" ");
}
