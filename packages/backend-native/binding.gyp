{
  "targets": [
    {
      "target_name": "distillery_native",
      "sources": [
        "native/addon.cc",
        "native/gemm.cc",
        "native/elementwise.cc",
        "native/gather.cc",
        "native/fused.cc",
        "native/threads.cc",
        "native/dropout.cc",
        "native/addon_train.cc",
        "native/attention.cc",
        "native/addon_attention.cc",
        "native/hugepages.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/x86_64-linux-gnu/openblas-pthread",
        "/usr/include/openblas"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags_cc": [
        "-O3",
        "-ffast-math",
        "-fno-finite-math-only",
        "-std=c++17",
        "-fopenmp",
        "<!(node scripts/march.cjs)"
      ],
      "libraries": [
        "-lopenblas",
        "-ldl",
        "-fopenmp"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ]
    }
  ]
}
