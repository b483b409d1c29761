//! The Python wheel (issue 30): `pyproject.toml` builds the binary into a wheel with
//! maturin (`bindings = "bin"`), which installs into a fresh virtual environment and runs
//! there with no Rust toolchain on its PATH. `.ci/run` installs maturin into
//! `.ci/venv`; where maturin cannot be found the test says it is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// maturin: `$QS_MATURIN`, `.ci/venv/bin/maturin`, or on PATH.
fn maturin() -> Option<PathBuf> {
    let ci = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/maturin");
    let candidates = std::env::var_os("QS_MATURIN")
        .map(PathBuf::from)
        .into_iter()
        .chain([ci, PathBuf::from("maturin")]);
    for candidate in candidates {
        let runs = Command::new(&candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if runs {
            return Some(candidate);
        }
    }
    None
}

#[test]
fn the_wheel_installs_into_a_fresh_virtual_environment_and_runs() {
    let Some(maturin) = maturin() else {
        eprintln!("skipped: maturin is not installed (.ci/run installs it: pip install maturin)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    // The dev profile (a release wheel, `pip install .`, takes minutes more and packs
    // the same files), in a target directory of its own beside the tests': built without
    // the dev-dependencies, its binary differs, and must not replace the one the other
    // tests are running.
    let target = Path::new(env!("CARGO_BIN_EXE_quant-session"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("wheel");
    let built = Command::new(&maturin)
        .args(["build", "--profile", "dev", "--out"])
        .arg(&wheels)
        .env("CARGO_TARGET_DIR", target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let wheel: Vec<PathBuf> = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheel.len(), 1, "{wheel:?}");
    let name = wheel[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!(
            "quant_session-{}-py3-none-",
            env!("CARGO_PKG_VERSION")
        )),
        "{name}"
    );
    // A fresh environment, the wheel alone (no index: nothing else is fetched).
    let venv = dir.path().join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--no-index"])
        .arg(&wheel[0])
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let exe = venv.join("bin/quant-session");
    // Run with the environment's bin first on PATH and no cargo anywhere on it.
    let path = format!("{}:/usr/bin:/bin", venv.join("bin").display());
    let version = Command::new("quant-session")
        .arg("--version")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("quant-session {}\n", env!("CARGO_PKG_VERSION"))
    );
    let checked = Command::new(&exe)
        .args([
            "check",
            "--format",
            "concise",
            "fixtures/sessions/seed-session-manager.log",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(1));
    assert!(
        String::from_utf8(checked.stdout).unwrap().ends_with(
            "error[missing-distillation] session completed without DISTILLATION_COMPLETE: the distillation was requested but never confirmed\n1 error, 2 warnings in 1 input (1 session)\n"
        )
    );
}
