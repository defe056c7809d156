{
  # libtorch comes from Debian's libtorch-dev unless LIBTORCH points at another distribution
  # (a pytorch.org libtorch zip, a CUDA build): then its include/ and lib/ are used and rpath'd.
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")"
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
        "src/fast_ops.cc",
        "src/addon.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
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
        ]
      ]
    }
  ]
}
