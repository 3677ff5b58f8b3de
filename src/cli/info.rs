//! `txpipe info`: the GPU adapters found, the one txpipe uses, the pipeline cache, and what
//! start-up costs (device, kernel creation, first batch).

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use txpipe::error::error_chain;
use txpipe::gpu::adapters_report;
use txpipe::sigverify::{GpuSigVerifier, SigItem, SigVerifier};

/// Arguments of `txpipe info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Only list adapters: do not open the device or build the verification kernel.
    #[arg(long)]
    pub no_startup: bool,
}

/// Runs `txpipe info`.
pub fn info(args: InfoArgs) -> anyhow::Result<ExitCode> {
    let adapters = adapters_report();
    if adapters.is_empty() {
        println!("GPU adapters: none found (the GPU backend is unavailable; `auto` uses the CPU)");
        return Ok(ExitCode::SUCCESS);
    }
    println!("GPU adapters ({}):", adapters.len());
    for a in &adapters {
        println!(
            "  {} {} [{} / {}] driver: {}",
            if a.selected { "*" } else { " " },
            a.name,
            a.backend,
            a.device_type,
            if a.driver.is_empty() { "?" } else { &a.driver }
        );
        println!(
            "      max_storage_buffer_binding_size {} MiB, max_buffer_size {} MiB, \
             max_compute_workgroups_per_dimension {}, max_compute_invocations_per_workgroup {}",
            a.max_storage_buffer_binding_size >> 20,
            a.max_buffer_size >> 20,
            a.max_compute_workgroups_per_dimension,
            a.max_compute_invocations_per_workgroup
        );
        println!(
            "      pipeline cache: {}, SHADER_INT64: {}",
            yes_no(a.pipeline_cache),
            yes_no(a.shader_int64)
        );
    }
    if let Some(sel) = adapters.iter().find(|a| a.selected) {
        println!("txpipe uses: {} ({})", sel.name, sel.backend);
        if sel.device_type == "Cpu" {
            println!("  note: a software renderer; its timings say nothing about GPU speed");
        }
    }
    if args.no_startup {
        return Ok(ExitCode::SUCCESS);
    }
    let t0 = Instant::now();
    if let Err(e) = txpipe::gpu::startup_report() {
        println!("device: cannot open: {}", error_chain(&e));
        return Ok(ExitCode::SUCCESS);
    }
    let t_ctx = t0.elapsed();
    let t1 = Instant::now();
    let verifier = match GpuSigVerifier::open() {
        Ok(v) => v,
        Err(e) => {
            println!("verification kernel: failed: {}", error_chain(&e));
            return Ok(ExitCode::FAILURE);
        }
    };
    let t_kernel = t1.elapsed();
    // Some drivers (llvmpipe) compile lazily, at the first dispatch.
    let (pk, sig, msg) = ([0u8; 32], [0u8; 64], [0u8; 0]);
    let items = [SigItem {
        pubkey: &pk,
        message: &msg,
        signature: &sig,
    }];
    let t2 = Instant::now();
    let first = verifier.verify(&items);
    let t_first = t2.elapsed();
    let report = txpipe::gpu::startup_report()?;
    println!(
        "pipeline cache: {}{}",
        if report.pipeline_cache_enabled {
            "enabled"
        } else {
            "not supported by this adapter"
        },
        report
            .cache_path
            .as_ref()
            .map(|p| format!(" at {}", p.display()))
            .unwrap_or_default()
    );
    println!(
        "start-up ({}): device {:.2?}, verification kernel {:.2?}, first batch {:.2?}{}",
        if report.warm() {
            format!(
                "warm, {} KiB of cache loaded",
                report.cache_bytes_loaded >> 10
            )
        } else {
            "cold: no pipeline cache on disk yet".to_string()
        },
        t_ctx,
        t_kernel,
        t_first,
        match first {
            Ok(_) => String::new(),
            Err(e) => format!(" (failed: {})", error_chain(&e)),
        }
    );
    for p in &report.pipelines {
        println!("  pipeline {:?}: {:.2?}", p.label, p.elapsed);
    }
    println!(
        "run `txpipe info` again to see the warm start (the cache is saved after kernel creation)"
    );
    Ok(ExitCode::SUCCESS)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
