// The element types and the raw tensor exchange format, shared by the engine (torch/) and the
// checkpoint readers/writers (io/) without either importing the other.

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint8' | 'bool';

/**
 * RawTensor: the exchange type between every checkpoint reader/writer in src/io and the
 * engine. A RawTensor is a dtype, a shape and the little-endian, C-contiguous bytes of the
 * elements. `data` may be a view into a larger buffer (a whole safetensors file, or a
 * PyTorch storage shared by several tensors); treat it as read-only unless you made it.
 */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  /** little-endian, C-contiguous bytes; length = numel(shape) * dtypeByteSize(dtype) */
  data: Uint8Array;
}
