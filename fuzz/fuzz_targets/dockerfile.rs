//! libFuzzer entry point of the `dockerfile` target (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = minidock_fuzz::target("dockerfile").expect("the target exists");
    (target.run)(data);
});
