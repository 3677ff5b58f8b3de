//! The harness of the GPU test binaries (`harness = false` in Cargo.toml, through
//! libtest-mimic): the same command line and summary as the built-in harness, but whether
//! a test can run is decided at run time. With a GPU adapter (real, or Mesa's lavapipe)
//! every test runs. Without one, every test is reported as **ignored** (never as passed),
//! and with `CI=true` every test **fails**, so CI always exercises the shaders.

use std::process::ExitCode;

/// Runs `tests` (name, body) as one test binary. A body fails by panicking.
pub fn run(tests: &[(&'static str, fn())]) -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let adapter = txpipe::gpu::adapters_report()
        .into_iter()
        .find(|a| a.selected);
    let ci = std::env::var("CI").as_deref() == Ok("true");
    match &adapter {
        Some(a) => eprintln!("GPU tests on {} ({}, {})", a.name, a.backend, a.device_type),
        None if ci => eprintln!("CI=true and no GPU adapter: every GPU test fails"),
        None => eprintln!("no GPU adapter: GPU tests are ignored (install mesa-vulkan-drivers)"),
    }
    let missing = adapter.is_none();
    let trials = tests
        .iter()
        .map(|&(name, body)| {
            libtest_mimic::Trial::test(name, move || {
                if missing {
                    return Err("CI=true but no GPU adapter found".into());
                }
                body();
                Ok(())
            })
            .with_ignored_flag(missing && !ci)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
