//! With the `cuda` feature, compiles `src/ops/kernels.cu` to PTX with nvcc
//! (from `CUDA_HOME`, else the PATH) for `CUDA_COMPUTE_CAP` (default 90, the
//! H100/H200). Without it, does nothing: CUDA is never needed to build.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/ops/kernels.cu");
    println!("cargo::rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo::rerun-if-env-changed=CUDA_HOME");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
    let cap: String = cap.chars().filter(char::is_ascii_digit).collect();
    let nvcc = std::env::var_os("CUDA_HOME")
        .map(|h| PathBuf::from(h).join("bin").join("nvcc"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nvcc"));
    let ptx = out.join("gauntlet_kernels.ptx");
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("-arch=compute_{cap}"))
        .arg("src/ops/kernels.cu")
        .arg("-o")
        .arg(&ptx)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{} failed on src/ops/kernels.cu ({s})", nvcc.display()),
        Err(e) => panic!(
            "cannot run {} ({e}): the cuda feature needs nvcc; \
             `eval \"$(scripts/cuda-toolchain.sh)\"` installs one",
            nvcc.display()
        ),
    }
}
