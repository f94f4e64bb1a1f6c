//! libFuzzer entry point of the `reference` target (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = minidock_fuzz::target("reference").expect("the target exists");
    (target.run)(data);
});
