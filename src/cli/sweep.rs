//! `--sweep PARAM=V1,V2,...`: one parameter of a bench command and the values it takes,
//! one run per value. Each command names its own parameters ([`Param`]) and applies a
//! value to its arguments itself.

use std::fmt::Display;
use std::path::Path;
use std::str::FromStr;

use super::io::check_writable_dir;

/// A parameter a command can sweep.
pub trait Param: Copy + Send + Sync + 'static {
    /// Every parameter, in the order the help lists them.
    const ALL: &'static [Self];
    /// The parameter's name: its flag without the dashes.
    fn name(self) -> &'static str;
}

/// A parameter and the values it takes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweep<P> {
    /// The swept parameter.
    pub param: P,
    /// Its values, as given (trimmed; none empty).
    pub values: Vec<String>,
}

impl<P: Param> FromStr for Sweep<P> {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let names = || {
            P::ALL
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (name, list) = s
            .split_once('=')
            .ok_or_else(|| format!("expected PARAM=V1,V2,... (PARAM one of {})", names()))?;
        let name = name.trim();
        let param = P::ALL
            .iter()
            .copied()
            .find(|p| p.name() == name || p.name().replace('-', "_") == name)
            .ok_or_else(|| format!("unknown sweep parameter '{name}' (one of {})", names()))?;
        if list.trim().is_empty() {
            return Err(format!("no values to sweep {name} over"));
        }
        let values: Vec<String> = list.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(format!("an empty value in the {name} sweep '{list}'"));
        }
        Ok(Sweep { param, values })
    }
}

/// `v` parsed as a `T`, the parser's complaint as text.
pub fn parse<T: FromStr>(v: &str) -> Result<T, String>
where
    T::Err: Display,
{
    v.parse::<T>().map_err(|e| e.to_string())
}

/// Every step of a run: one per value of `sweep` (each value applied to `args` by `apply`,
/// all checked before the first, possibly long, run), or one "run" step without a sweep.
///
/// # Errors
/// The first value `apply` refuses, named with the parameter.
pub fn steps<P: Param, A: Clone>(
    sweep: Option<&Sweep<P>>,
    args: &A,
    apply: impl Fn(P, &A, &str) -> Result<A, String>,
) -> anyhow::Result<Vec<(String, A)>> {
    let Some(sweep) = sweep else {
        return Ok(vec![("run".to_string(), args.clone())]);
    };
    sweep
        .values
        .iter()
        .map(|v| {
            apply(sweep.param, args, v)
                .map(|a| (v.clone(), a))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "bad value '{v}' for sweep parameter {}: {e}",
                        sweep.param.name()
                    )
                })
        })
        .collect()
}

/// Checks, before any run, that the plot directory and the report's directory can be
/// written.
///
/// # Errors
/// A directory that cannot be created or written.
pub fn check_outputs(plot: Option<&Path>, report: Option<&Path>) -> anyhow::Result<()> {
    if let Some(dir) = plot {
        check_writable_dir(dir, "plot")?;
    }
    if let Some(file) = report {
        let dir = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        check_writable_dir(dir, "report")?;
    }
    Ok(())
}
