//! What a replay run needs before it starts and does after it ends, built the same way by the
//! CLI, the snapshot test and the throughput benchmark: the recordings (discovered, loaded,
//! checked against their spec), the targets (`[API=]URL`, each with its control API), and the
//! re-recording of completed scenarios.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ValueEnum as _;

use crate::recording::{self, Loaded};
use crate::specs::Api;

use super::{ApiContext, RunReport, Target};

/// Why a run could not be set up (an input or usage error: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The recordings folder could not be read.
    #[error("{0}")]
    Discover(String),
    /// An embedded spec could not be loaded.
    #[error("cannot load the embedded spec: {0}")]
    Spec(String),
    /// Recordings that do not load or do not fit their spec, each with file and line.
    #[error("{} recording error(s)", .0.len())]
    Recordings(Vec<String>),
    #[error("no recordings under {0}")]
    Empty(PathBuf),
    /// A `--target` or `--control` that cannot be used.
    #[error("{0}")]
    Target(String),
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Every recording under `dir` (recursively), in file order, of `api` only when given; each
/// checked against its API's spec. All errors are collected, not only the first.
pub fn load_recordings(dir: &Path, api: Option<Api>) -> Result<Vec<Loaded>, PlanError> {
    let files = recording::discover(dir).map_err(|e| PlanError::Discover(e.to_string()))?;
    checked(files.iter().map(|f| recording::load(f)), dir, api)
}

mod shipped {
    include!(concat!(env!("OUT_DIR"), "/shipped_recordings.rs"));
}

/// Where the shipped recordings live in the source tree, relative to a checkout: the folder
/// their embedded copies are named under (in reports, `--only` and `--rerecord`).
pub const SHIPPED_DIR: &str = "conformance/recordings";

/// The shipped recordings, embedded in the binary at build time (so it needs no checkout), as
/// [`load_recordings`] reads a folder: named `conformance/recordings/<api>/<file>`.
pub fn load_shipped(api: Option<Api>) -> Result<Vec<Loaded>, PlanError> {
    let dir = Path::new(SHIPPED_DIR);
    checked(
        shipped::SHIPPED
            .iter()
            .map(|(file, text)| recording::parse(&dir.join(file), text)),
        dir,
        api,
    )
}

/// The recordings read (of `api` only when given), each checked against its API's spec; every
/// error collected.
fn checked(
    read: impl Iterator<Item = Result<Loaded, recording::RecordingError>>,
    dir: &Path,
    api: Option<Api>,
) -> Result<Vec<Loaded>, PlanError> {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for l in read {
        match l {
            Ok(l) if api.is_none_or(|a| a == l.api()) => loaded.push(l),
            Ok(_) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    let mut contexts = BTreeMap::new();
    for l in &loaded {
        if let std::collections::btree_map::Entry::Vacant(v) = contexts.entry(l.api()) {
            v.insert(ApiContext::new(l.api()).map_err(PlanError::Spec)?);
        }
        errors.extend(
            super::validate(l, &contexts[&l.api()])
                .iter()
                .map(ToString::to_string),
        );
    }
    if !errors.is_empty() {
        return Err(PlanError::Recordings(errors));
    }
    if loaded.is_empty() {
        return Err(PlanError::Empty(dir.to_path_buf()));
    }
    Ok(loaded)
}

/// The API a bare URL addresses: `api` when given, else the one API the recordings are of.
pub fn single_api(loaded: &[Loaded], api: Option<Api>) -> Option<Api> {
    let mut apis: Vec<Api> = loaded.iter().map(Loaded::api).collect();
    apis.sort();
    apis.dedup();
    api.or(if apis.len() == 1 { Some(apis[0]) } else { None })
}

/// The targets of `--target [API=]URL` and `--control [API=]URL` (a control needs its target).
/// No target for an API means the embedded mock.
pub fn targets(
    targets: &[String],
    controls: &[String],
    single: Option<Api>,
) -> Result<BTreeMap<Api, Target>, PlanError> {
    let mut out = BTreeMap::new();
    for t in targets {
        let (api, url) = api_url(t, single)?;
        out.insert(
            api,
            Target::Url {
                base: url.trim_end_matches('/').to_owned(),
                control: None,
            },
        );
    }
    for c in controls {
        let (api, url) = api_url(c, single)?;
        match out.get_mut(&api) {
            Some(Target::Url { control, .. }) => {
                *control = Some(url.trim_end_matches('/').to_owned());
            }
            _ => {
                return Err(PlanError::Target(format!(
                    "--control {c}: give --target for {} too",
                    api.name()
                )));
            }
        }
    }
    Ok(out)
}

/// The targets named by `CONFORMANCE_TARGET_CHARGILY` / `CONFORMANCE_TARGET_RECHARGE` (and
/// their `CONFORMANCE_CONTROL_…`): how `cargo test` is pointed at another implementation.
pub fn targets_from_env() -> BTreeMap<Api, Target> {
    let mut out = BTreeMap::new();
    for api in Api::ALL {
        let upper = api.name().to_ascii_uppercase();
        if let Ok(base) = std::env::var(format!("CONFORMANCE_TARGET_{upper}")) {
            out.insert(
                api,
                Target::Url {
                    base: base.trim_end_matches('/').to_owned(),
                    control: std::env::var(format!("CONFORMANCE_CONTROL_{upper}")).ok(),
                },
            );
        }
    }
    out
}

fn api_url(spec: &str, default: Option<Api>) -> Result<(Api, String), PlanError> {
    let named = spec
        .split_once('=')
        .and_then(|(name, url)| Some((Api::from_str(name, true).ok()?, url)));
    let (api, url) = match named {
        Some((api, url)) => (Some(api), url),
        None => (default, spec),
    };
    let Some(api) = api else {
        return Err(PlanError::Target(format!(
            "`{spec}`: say which API it serves (`chargily=URL` or `recharge=URL`), or give --api"
        )));
    };
    let ok = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !ok {
        return Err(PlanError::Target(format!(
            "`{url}` is not an http:// or https:// URL"
        )));
    }
    Ok((api, url.to_owned()))
}

/// Writes the re-recording of every completed scenario of `report` under `out`, at the path
/// its recording has under `dir`; returns the files not re-recorded (scenarios that did not
/// complete: never a recording with the old responses of exchanges that did not run).
pub fn rerecord(
    loaded: &[Loaded],
    report: &RunReport,
    dir: &Path,
    out: &Path,
    inline_captures: bool,
) -> Result<Vec<PathBuf>, PlanError> {
    let mut skipped = Vec::new();
    for (l, r) in loaded.iter().zip(&report.scenarios) {
        if !r.completed() {
            skipped.push(l.file.clone());
            continue;
        }
        let relative = l.file.strip_prefix(dir).unwrap_or(&l.file);
        let path = out.join(relative);
        let rec = super::rerecorded(l, r, inline_captures);
        recording::write_atomic(&path, &rec).map_err(|error| PlanError::Write { path, error })?;
    }
    Ok(skipped)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn targets_name_their_api_or_take_the_single_one() {
        let t = targets(
            &["chargily=http://a.test/v2/".into(), "https://b.test".into()],
            &["recharge=http://c.test".into()],
            Some(Api::Recharge),
        )
        .unwrap();
        assert!(
            matches!(&t[&Api::Chargily], Target::Url { base, control: None } if base == "http://a.test/v2")
        );
        assert!(
            matches!(&t[&Api::Recharge], Target::Url { base, control: Some(c) } if base == "https://b.test" && c == "http://c.test")
        );
        for (bad, why) in [
            ("http://a.test", "say which API"),
            ("chargily=ftp://a.test", "not an http"),
            ("chargily=http:///x", "not an http"),
        ] {
            let e = targets(&[bad.into()], &[], None).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let e = targets(&[], &["chargily=http://c.test".into()], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("give --target for chargily too"), "{e}");
    }
}
