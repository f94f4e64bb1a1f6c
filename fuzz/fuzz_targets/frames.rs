//! libFuzzer entry point of the `frames` target (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = minidock_fuzz::target("frames").expect("the target exists");
    (target.run)(data);
});
