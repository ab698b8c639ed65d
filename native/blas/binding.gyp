{
  "targets": [
    {
      "target_name": "dino_blas",
      "sources": ["src/blas.c"],
      "cflags": ["-O3", "-std=gnu11", "-fno-trapping-math", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl", "-lpthread", "-lm"] }],
        ["OS=='mac'", { "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-fno-trapping-math"] } }]
      ]
    }
  ]
}
