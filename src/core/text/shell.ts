/**
 * POSIX shell quoting. Every value we put on a generated command line goes through `quote`, so
 * no text from a plan can end the argument it sits in.
 */
export function quote(value: string): string {
  if (value.includes("\0")) throw new Error("a shell argument cannot contain a NUL character");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line whose fixed words are written out and whose interpolated values are quoted: sh`git switch ${branch}`. */
export function sh(words: TemplateStringsArray, ...values: string[]): string {
  return words.reduce((line, word, i) => line + word + (i < values.length ? quote(values[i]!) : ""), "");
}
