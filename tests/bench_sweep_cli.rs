//! `txpipe bench --sweep/--plot/--report` and `bench-exec --sweep/--plot`: one result per
//! swept value with the single run's fields, PNG files that decode (with text drawn in
//! them), SVG and XHTML files that parse as XML and carry the measured numbers; single-run
//! JSON keeps its fields; no progress output when standard error is not a terminal; bad
//! sweeps and unwritable directories are refused with a message, before any run.

mod cli_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cli_support::{json_lines, run};
use serde_json::Value;

/// A fresh directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("txpipe-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Progress bars draw with carriage returns and escape sequences; progress text named
/// what it did.
fn assert_no_progress(stderr: &str) {
    assert!(
        !stderr.contains('\r'),
        "carriage return on stderr: {stderr:?}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "escape sequence on stderr: {stderr:?}"
    );
    for word in ["signing", "ETA", "compiling kernels", "tx/s ("] {
        assert!(
            !stderr.contains(word),
            "progress '{word}' on stderr: {stderr:?}"
        );
    }
}

/// Checks a PNG: signature, IHDR first, decodes to the figure's size, and has dark
/// pixels in the caption strip at the bottom (the embedded font drew the text).
fn check_png(path: &Path) {
    let bytes = std::fs::read(path).expect("read PNG");
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} signature",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR", "{} IHDR first", path.display());
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG decodes");
    assert_eq!((info.width, info.height), (960, 560), "{}", path.display());
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    let row = info.line_size;
    let dark_in_caption = (535..555)
        .flat_map(|y| (0..300).map(move |x| y * row + x * channels))
        .filter(|&i| buf[i] < 128 && buf[i + 1] < 128 && buf[i + 2] < 128)
        .count();
    assert!(
        dark_in_caption > 50,
        "{}: no text drawn in the caption strip ({dark_in_caption} dark pixels)",
        path.display()
    );
    let non_white = buf
        .chunks(channels)
        .filter(|p| p[..3] != [255, 255, 255])
        .count();
    assert!(non_white > 5_000, "{}: nearly blank", path.display());
}

/// Parses `path` as XML (DOCTYPE allowed) and returns its text.
fn check_xml(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read XML file");
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    if let Err(e) = roxmltree::Document::parse_with_options(&text, opts) {
        panic!("{} is not well-formed: {e}", path.display());
    }
    text
}

/// The keys of a single `bench --json` run, as before sweeps, plots and reports existed.
const SINGLE_RUN_KEYS: [&str; 21] = [
    "achieved_tps",
    "arrivals",
    "backend",
    "blocks",
    "elapsed_s",
    "latency_ms",
    "max_block_wait_ms",
    "max_in_flight",
    "mix",
    "offered_tps",
    "outcomes",
    "rule",
    "sigverify",
    "stages",
    "state_hash",
    "threads",
    "tps",
    "transactions",
    "workload",
    "workload_cached",
    "workload_prep_s",
];

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

fn single_run_keys() -> BTreeSet<String> {
    SINGLE_RUN_KEYS.iter().map(|k| k.to_string()).collect()
}

#[test]
fn single_run_json_keeps_its_fields_and_stderr_stays_empty() {
    let cache = temp_dir("single");
    let (code, out, err) = run(
        &[
            "bench",
            "--txs",
            "2000",
            "--accounts",
            "500",
            "--backend",
            "cpu",
            "--json",
            "--cache-dir",
            s(&cache),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "one JSON line: {out}");
    assert!(out.ends_with("}\n"), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(keys(&lines[0]), single_run_keys());
    assert!(
        err.is_empty(),
        "stderr not empty without a terminal: {err:?}"
    );

    // the table too: no progress on a pipe (it used to print signing steps)
    let (code, out, err) = run(
        &[
            "bench",
            "--txs",
            "2000",
            "--accounts",
            "500",
            "--backend",
            "cpu",
            "--no-cache",
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("end to end"), "{out}");
    assert_no_progress(&err);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn contention_sweep_writes_plots_and_a_report_with_the_numbers() {
    let dir = temp_dir("contention");
    let plots = dir.join("out");
    let report = plots.join("report.html");
    let (code, out, err) = run(
        &[
            "bench",
            "--sweep",
            "contention=uniform,zipf:1.0,hot:0.5",
            "--txs",
            "2000",
            "--accounts",
            "500",
            "--backend",
            "cpu",
            "--json",
            "--plot",
            s(&plots),
            "--report",
            s(&report),
            "--cache-dir",
            s(&dir.join("cache")),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert_no_progress(&err);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "one JSON line per value: {out}");
    let mut with_sweep = single_run_keys();
    // --plot and --report measure signature verification alone and check the reference
    for k in [
        "sweep",
        "reference_match",
        "sigverify_only_tps",
        "sigverify_only_tps_before_after",
        "tps_over_sigverify_only",
    ] {
        with_sweep.insert(k.to_string());
    }
    for (line, value) in lines.iter().zip(["uniform", "zipf:1.0", "hot:0.5"]) {
        assert_eq!(keys(line), with_sweep);
        assert_eq!(line["sweep"]["param"], "contention");
        assert_eq!(line["sweep"]["value"], value);
        assert_eq!(line["reference_match"], true);
        assert_eq!(line["transactions"], 2000);
    }
    // each run's own workload
    let hashes: BTreeSet<&str> = lines
        .iter()
        .filter_map(|l| l["state_hash"].as_str())
        .collect();
    assert_eq!(hashes.len(), 3);

    for name in ["throughput", "latency", "latency-histogram", "stages"] {
        check_png(&plots.join(format!("{name}.png")));
        check_xml(&plots.join(format!("{name}.svg")));
    }
    let throughput = check_xml(&plots.join("throughput.svg"));
    let latency = check_xml(&plots.join("latency.svg"));
    let histogram = check_xml(&plots.join("latency-histogram.svg"));
    assert!(histogram.contains("transactions (%)"), "histogram axis");
    let html = check_xml(&report);
    for line in &lines {
        let tps = format!("{:.0}", line["tps"].as_f64().expect("tps"));
        let sig = format!(
            "{:.0}",
            line["sigverify_only_tps"].as_f64().expect("baseline")
        );
        let p50 = format!("{:.1}", line["latency_ms"]["p50"].as_f64().expect("p50"));
        let hash = &line["state_hash"].as_str().expect("hash")[..16];
        assert!(
            throughput.contains(&format!("{tps} tx/s")),
            "throughput.svg lacks {tps}"
        );
        assert!(
            throughput.contains(&format!("{sig} tx/s")),
            "throughput.svg lacks {sig}"
        );
        assert!(
            latency.contains(&format!("{p50} ms")),
            "latency.svg lacks {p50}"
        );
        assert!(
            histogram.contains(&format!("p50 {p50} ms")),
            "latency-histogram.svg lacks {p50}"
        );
        for v in [&tps, &sig, &p50, &hash.to_string()] {
            assert!(html.contains(&format!("<td>{v}</td>")), "report lacks {v}");
        }
    }
    assert!(throughput.contains("Throughput by contention"));
    assert!(throughput.contains("reference match"));
    assert!(html.contains("contention = uniform, zipf:1.0, hot:0.5"));
    assert!(html.contains("Machine:"));
    assert_eq!(html.matches("<svg").count(), 4, "four plots inline");
    for external in ["src=", "href=", "<img", "<link", "<script", "@import"] {
        assert!(
            !html.contains(external),
            "the report refers out: {external}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn table_sweep_prints_one_row_per_value() {
    let dir = temp_dir("rows");
    let (code, out, err) = run(
        &[
            "bench",
            "--sweep",
            "sigs-per-tx=1,2",
            "--txs",
            "1000",
            "--accounts",
            "200",
            "--backend",
            "cpu",
            "--cache-dir",
            s(&dir),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert_no_progress(&err);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 3, "a header and one row per value: {out}");
    assert!(
        rows[0].starts_with("sigs-per-tx") && rows[0].contains("tx/s"),
        "{out}"
    );
    assert!(
        rows[1].starts_with("1 ") && rows[2].starts_with("2 "),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_exec_sweep_plots_the_speedup() {
    let dir = temp_dir("exec");
    let (code, out, err) = run(
        &[
            "bench-exec",
            "--sweep",
            "threads=1,2",
            "--txs",
            "2000",
            "--accounts",
            "500",
            "--repeat",
            "1",
            "--json",
            "--plot",
            s(&dir),
            "--report",
            s(&dir.join("r.html")),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{out}");
    for (line, t) in lines.iter().zip([1, 2]) {
        assert_eq!(line["threads"], t);
        assert_eq!(line["sweep"]["param"], "threads");
        assert_eq!(line["sweep"]["value"], t.to_string());
    }
    check_png(&dir.join("speedup.png"));
    let svg = check_xml(&dir.join("speedup.svg"));
    let html = check_xml(&dir.join("r.html"));
    for line in &lines {
        let par = line["parallel_tps"].as_f64().expect("parallel_tps");
        // the JSON rounds half away from zero, the plot half to even: one apart at most
        let found = [par, par - 1.0, par + 1.0].iter().any(|v| {
            svg.contains(&format!("({v:.0} / ")) && html.contains(&format!("<td>{v:.0}</td>"))
        });
        assert!(found, "speedup.svg or the report lacks {par}");
    }
    assert!(svg.contains("speedup by threads"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_sweeps_and_unwritable_directories_are_refused() {
    let dir = temp_dir("bad");
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a directory").expect("write file");
    let under_file = file.join("plots");
    let report_under_file = file.join("r.html");
    let base = [
        "bench",
        "--txs",
        "500",
        "--accounts",
        "100",
        "--backend",
        "cpu",
        "--no-cache",
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &["--sweep", "colour=red,blue"],
            "unknown sweep parameter 'colour'",
        ),
        (&["--sweep", "contention="], "no values to sweep contention"),
        (&["--sweep", "workers"], "expected PARAM=V1,V2,..."),
        (&["--sweep", "sigs-per-tx=1,,2"], "an empty value"),
        (
            &["--sweep", "sigs-per-tx=1,x"],
            "bad value 'x' for sweep parameter sigs-per-tx",
        ),
        (
            &["--sweep", "sigs-per-tx=9"],
            "bad value '9' for sweep parameter sigs-per-tx",
        ),
        (
            &["--sweep", "contention=uniform,zipf:abc"],
            "bad value 'zipf:abc'",
        ),
        (
            &["--sweep", "backend=cpu,tpu"],
            "bad value 'tpu' for sweep parameter backend",
        ),
        (
            &["--sweep", "rule=strict,lax"],
            "bad value 'lax' for sweep parameter rule",
        ),
        (
            &["--sweep", "invalid-share=0.1,2"],
            "bad value '2' for sweep parameter invalid-share",
        ),
        (
            &["--sweep", "block-size=0"],
            "bad value '0' for sweep parameter block-size",
        ),
        (
            &["--plot", s(&under_file)],
            "cannot create the plot directory",
        ),
        (
            &["--report", s(&report_under_file)],
            "cannot create the report directory",
        ),
    ];
    for (extra, message) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let (code, out, err) = run(&args, b"");
        assert_ne!(code, 0, "{extra:?} accepted: {out}");
        assert_ne!(code, -1, "{extra:?} killed");
        assert!(
            err.contains(message),
            "{extra:?}: expected '{message}' in {err:?}"
        );
        assert!(!err.contains("panicked"), "{extra:?} panicked: {err}");
        assert!(out.is_empty(), "{extra:?}: output before the error: {out}");
    }
    let (code, _, err) = run(
        &["bench-exec", "--txs", "100", "--sweep", "threads=1,0"],
        b"",
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("bad value '0' for sweep parameter threads"),
        "{err}"
    );
    let (code, out, err) = run(
        &["bench-exec", "--txs", "100", "--plot", s(&under_file)],
        b"",
    );
    assert_ne!(code, 0);
    assert!(out.is_empty(), "ran before refusing: {out}");
    assert!(err.contains("cannot create the plot directory"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// On a terminal (util-linux `script` gives the command one), progress is drawn on
/// standard error and standard output still holds nothing but the JSON line. Skipped
/// where `script` is missing.
#[test]
fn on_a_terminal_progress_goes_to_stderr_and_json_stays_clean() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("skipped: no `script` command to give txpipe a terminal");
        return;
    }
    let dir = temp_dir("tty");
    let out = dir.join("out.json");
    let log = dir.join("tty.log");
    let command = format!(
        "'{}' bench --txs 3000 --accounts 500 --backend cpu --no-cache --json > '{}'",
        env!("CARGO_BIN_EXE_txpipe"),
        s(&out)
    );
    let status = std::process::Command::new("script")
        .args(["-qfec", &command, s(&log)])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script");
    assert!(status.status.success(), "{status:?}");
    let terminal =
        String::from_utf8_lossy(&std::fs::read(&log).expect("terminal log")).into_owned();
    assert!(
        terminal.contains("signing workload"),
        "no progress on the terminal: {terminal:?}"
    );
    let stdout = std::fs::read_to_string(&out).expect("stdout file");
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(
        !stdout.contains('\r') && !stdout.contains('\u{1b}'),
        "{stdout:?}"
    );
    assert_eq!(keys(&json_lines(&stdout)[0]), single_run_keys());
    let _ = std::fs::remove_dir_all(&dir);
}
