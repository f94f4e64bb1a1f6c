//! libFuzzer entry point of the `layer_tar` target (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = minidock_fuzz::target("layer_tar").expect("the target exists");
    (target.run)(data);
});
