/** Checkpoint and file I/O: public API of src/io. */
export * from './raw-tensor.js';
export * from './errors.js';
export { MAX_EXPANDED_BYTES, checkStridedView, isContiguous, stridedToContiguous } from './strided.js';
export type { StridedView } from './strided.js';
export {
  PickleError,
  UnsafePickleError,
  PyGlobal,
  TORCH_STORAGE_DTYPES,
  isPyTuple,
  isStorageRef,
  isTensorRef,
  parseTorchStoragePid,
  unpickle,
} from './pickle.js';
export type { PyValue, StorageRef, TensorRef, UnpickleOptions } from './pickle.js';
export { SMALL_RECORD_BYTES, ZipError, ZipReader, writeZipAtomic } from './zip.js';
export type { VerifyCrc, ZipEntryInfo, ZipReaderOptions, ZipWriteEntry } from './zip.js';
export * from './npz.js';
export {
  DEFAULT_MAX_PICKLE_BYTES,
  DEFAULT_STATE_DICT_KEYS,
  TorchCheckpoint,
  collectTensorRefs,
  loadStateDict,
  readTorchCheckpoint,
  selectStateDict,
  stateDictRefs,
  withTorchCheckpoint,
} from './torch-checkpoint.js';
export type { LoadStateDictOptions, TorchOpenOptions, TorchSource } from './torch-checkpoint.js';
export * from './safetensors.js';
export * from './atomic.js';
export * from './regular-file.js';
export * from './lock.js';
export * from './checkpoint.js';
export * from './inspect.js';
