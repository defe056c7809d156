/** Base class of the errors the checkpoint readers and writers throw for bad input files. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}
