//! libFuzzer entry point of the `api_json` target (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = minidock_fuzz::target("api_json").expect("the target exists");
    (target.run)(data);
});
