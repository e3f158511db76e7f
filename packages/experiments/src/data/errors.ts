/** A problem with an input file: the message names the file and, when known, the line or row. */
export class DataFileError extends Error {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, problem: string) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${problem}`);
    this.name = 'DataFileError';
    this.file = file;
    this.line = line;
  }
}
