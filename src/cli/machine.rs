//! What a measurement ran on, for the captions of plots and reports: the CPU model and
//! its cores (from /proc/cpuinfo where there is one), and the commit txpipe was built from.

/// The CPU model and the number of cores, e.g. "AMD EPYC 7B13, 2 cores"; never fails
/// (falls back to "unknown CPU" and the available parallelism).
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_string())
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{model}, {cores} core{}", if cores == 1 { "" } else { "s" })
}

/// The short git commit the binary was built from, or "unknown" (see build.rs).
pub fn commit() -> &'static str {
    option_env!("TXPIPE_GIT_COMMIT").unwrap_or("unknown")
}

/// "txpipe COMMIT on MACHINE": the caption line of every plot and report.
pub fn caption() -> String {
    format!("txpipe {} on {}", commit(), machine())
}
