{
  # libtorch comes from Debian's libtorch-dev unless LIBTORCH points at another distribution
  # (a pytorch.org libtorch zip, the torch/ folder of a PyTorch wheel, a CUDA build): then its
  # include/ and lib/ are used and rpath'd. A CUDA libtorch also brings NCCL process groups; the CUDA
  # headers it needs come from CTFGEN_CUDA_INCLUDE (space-separated folders, e.g. those of the
  # nvidia-cuda-runtime and nvidia-nccl wheels, or /usr/local/cuda/include).
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "cuda%": "<!(node libtorch-flags.mjs cuda)",
    "cxx11_abi%": "<!(node libtorch-flags.mjs abi)",
    "cuda_include%": "<!(node -p \"process.env.CTFGEN_CUDA_INCLUDE || ''\")"
  },
  "targets": [
    {
      "target_name": "ctfgen_torch",
      "sources": [
        "src/common.cc",
        "src/tensor_ops.cc",
        "src/math_ops.cc",
        "src/nn_ops.cc",
        "src/autograd_ops.cc",
        "src/device_ops.cc",
        "src/dist_ops.cc",
        "src/linalg_ops.cc",
        "src/fast_ops.cc",
        "src/addon.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # USE_C10D_GLOO: the c10d headers hide ProcessGroupGloo unless the build says it has Gloo
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "USE_C10D_GLOO", "_GLIBCXX_USE_CXX11_ABI=<(cxx11_abi)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "conditions": [
        [
          "libtorch==''",
          {
            "include_dirs": ["/usr/include", "/usr/include/torch/csrc/api/include"],
            "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
          },
          {
            "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
            "libraries": [
              "-L<(libtorch)/lib",
              "-Wl,-rpath,<(libtorch)/lib",
              "-Wl,--no-as-needed",
              "-ltorch",
              "-ltorch_cpu",
              "-lc10",
              "-Wl,--as-needed"
            ]
          }
        ],
        [
          "cuda==1",
          {
            "defines": ["USE_C10D_NCCL"],
            "include_dirs": ["<@(cuda_include)"],
            "libraries": ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"]
          }
        ]
      ]
    }
  ]
}
