# Builds the Shadowdisk native addon (thin Linux ioctl/syscall wrappers, one .cc file per concern) and the hotcore
# engine, a standalone executable (build/Release/hotcore) whose data path never enters JavaScript; and testdisk, the
# power-cut and read-error test disk for tests (docs/testing.md).
{
  "targets": [
    {
      "target_name": "shadowdisk_native",
      "sources": [
        "src/addon.cc",
        "src/args.cc",
        "src/errors.cc",
        "src/fd.cc",
        "src/blockdev.cc",
        "src/blkpg.cc",
        "src/freeze.cc",
        "src/clone.cc",
        "src/reflink_catchup.cc",
        "src/fiemap.cc",
        "src/file_boundaries.cc",
        "src/loop.cc",
        "src/direct_io.cc",
        "src/fuse_files.cc",
        "src/memory.cc",
        "src/zstd_codec.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "include_dirs": ["/usr/include/fuse3"],
      "libraries": ["-lfuse3", "-lzstd", "-lpthread"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    },
    {
      "target_name": "hotcore",
      "type": "executable",
      "sources": [
        "src/hotcore/main.cc",
        "src/hotcore/origin.cc",
        "src/hotcore/snapshot.cc",
        "src/hotcore/fuse_ops.cc",
        "src/hotcore/control.cc",
        "src/hotcore/cbt_file.cc",
        "src/hotcore/async_io.cc",
        "src/hotcore/ring.cc",
        "src/hotcore/watchdog.cc"
      ],
      "include_dirs": ["/usr/include/fuse3"],
      "libraries": ["-lfuse3", "-luring", "-lpthread"],
      "defines": ["FUSE_USE_VERSION=312", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    },
    {
      "target_name": "testdisk",
      "type": "executable",
      "sources": [
        "src/testdisk/main.cc",
        "src/testdisk/disk_state.cc",
        "src/testdisk/fuse_ops.cc"
      ],
      "include_dirs": ["/usr/include/fuse3"],
      "libraries": ["-lfuse3", "-lpthread"],
      "defines": ["FUSE_USE_VERSION=312", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    }
  ]
}
