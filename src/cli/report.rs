//! A self-contained HTML report of a bench run or sweep: parameters, machine, tables and
//! the plots inline as SVG, no external assets. Written as XHTML (well-formed XML), so
//! it can be parsed and checked as XML as well as opened in a browser.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use super::plot::Figure;

/// A table of the report.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Its heading.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells, as shown.
    pub rows: Vec<Vec<String>>,
}

/// What a report holds.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The page title, e.g. "txpipe bench: contention sweep".
    pub title: String,
    /// The command line that produced it.
    pub command: String,
    /// The machine (CPU model and cores).
    pub machine: String,
    /// The commit txpipe was built from.
    pub commit: String,
    /// Parameters of the run, name and value.
    pub params: Vec<(String, String)>,
    /// Result tables.
    pub tables: Vec<Table>,
    /// Figures, drawn inline.
    pub figures: Vec<Figure>,
}

impl Report {
    /// A report of `command` (e.g. "txpipe bench"), titled with the swept parameter when
    /// there is one, carrying this process's command line, the machine and the commit.
    pub fn new(
        command: &str,
        swept: Option<&str>,
        params: Vec<(String, String)>,
        tables: Vec<Table>,
        figures: Vec<Figure>,
    ) -> Self {
        Self {
            title: match swept {
                Some(p) => format!("{command}: {p} sweep"),
                None => command.to_string(),
            },
            command: std::env::args().collect::<Vec<_>>().join(" "),
            machine: super::machine::machine(),
            commit: super::machine::commit().to_string(),
            params,
            tables,
            figures,
        }
    }
}

/// `s` with the XML special characters escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // characters XML 1.0 does not allow
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The SVG document without an XML declaration, to sit inside the page.
fn inline_svg(svg: &str) -> &str {
    let s = svg.trim_start();
    match s.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(s, |(_, body)| body.trim_start()),
        None => s,
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em auto;max-width:1000px;color:#222}\
table{border-collapse:collapse;margin:1em 0}\
th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}\
th{background:#eee}td:first-child,th:first-child{text-align:left}\
figure{margin:1.5em 0}figcaption{color:#555}\
svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:2px 4px}";

impl Report {
    /// The page as XHTML text.
    pub fn to_xhtml(&self) -> String {
        let mut h = String::new();
        let e = escape;
        let _ = writeln!(h, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        let _ = writeln!(h, "<!DOCTYPE html>");
        let _ = writeln!(
            h,
            "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">"
        );
        let _ = writeln!(
            h,
            "<head><meta charset=\"UTF-8\"/><title>{}</title><style>{STYLE}</style></head>",
            e(&self.title)
        );
        let _ = writeln!(h, "<body>");
        let _ = writeln!(h, "<h1>{}</h1>", e(&self.title));
        let _ = writeln!(
            h,
            "<p>Machine: <strong>{}</strong>; txpipe commit <code>{}</code>.</p>",
            e(&self.machine),
            e(&self.commit)
        );
        if !self.command.is_empty() {
            let _ = writeln!(h, "<p>Command: <code>{}</code></p>", e(&self.command));
        }
        let _ = writeln!(h, "<h2>Parameters</h2>");
        let _ = writeln!(h, "<table>");
        for (k, v) in &self.params {
            let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", e(k), e(v));
        }
        let _ = writeln!(h, "</table>");
        for t in &self.tables {
            let _ = writeln!(h, "<h2>{}</h2>", e(&t.title));
            let _ = writeln!(h, "<table>");
            let _ = write!(h, "<tr>");
            for c in &t.header {
                let _ = write!(h, "<th>{}</th>", e(c));
            }
            let _ = writeln!(h, "</tr>");
            for r in &t.rows {
                let _ = write!(h, "<tr>");
                for c in r {
                    let _ = write!(h, "<td>{}</td>", e(c));
                }
                let _ = writeln!(h, "</tr>");
            }
            let _ = writeln!(h, "</table>");
        }
        if !self.figures.is_empty() {
            let _ = writeln!(h, "<h2>Plots</h2>");
        }
        for f in &self.figures {
            let _ = writeln!(
                h,
                "<figure id=\"{}\">\n{}\n<figcaption>{}</figcaption></figure>",
                e(f.name),
                inline_svg(&f.svg),
                e(&f.title)
            );
        }
        let _ = writeln!(h, "</body>\n</html>");
        h
    }

    /// Writes the page to `path`, creating its directory if need be.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the report directory {}", dir.display()))?;
        }
        std::fs::write(path, self.to_xhtml())
            .with_context(|| format!("cannot write the report {}", path.display()))
    }
}
