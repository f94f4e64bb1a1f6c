//! libFuzzer entry point of the `manifest` target (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = minidock_fuzz::target("manifest").expect("the target exists");
    (target.run)(data);
});
