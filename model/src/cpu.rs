//! CPU feature dispatch for the hand-vectorised kernels.
//!
//! Each hot kernel is written once as generic code and compiled three ways:
//! for AVX-512, for AVX2 with FMA, and portably. The path is chosen at run
//! time from what the CPU reports ([`CpuPath::detect`]), never from global
//! compiler flags, so one binary runs fast on every x86-64 class.
//!
//! Multiply-adds go through [`Madd`]: the vector paths fuse them into one
//! instruction; the portable path multiplies and adds separately, because
//! `f32::mul_add` compiled without the `fma` target feature becomes a call to
//! libm's software `fmaf` per element (the cause of decoding at a tenth of
//! the machine's speed on AVX2 CPUs before this module existed). The two
//! round differently in the last bit; docs/PERFORMANCE.md says how far scores
//! drift between the paths.

use std::sync::OnceLock;

/// `a·b + c`, fused or not.
pub(crate) trait Madd {
    /// `a·b + c`.
    fn madd(a: f32, b: f32, c: f32) -> f32;
}

/// One rounding: a fused multiply-add (only where the CPU has FMA).
pub(crate) struct Fused;

impl Madd for Fused {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// Two roundings: multiply, then add (never a libm call).
pub(crate) struct Split;

impl Madd for Split {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// The code path the CPU kernels take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CpuPath {
    /// Plain Rust, no target features assumed.
    Portable,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX-512F.
    Avx512,
}

impl CpuPath {
    /// The best path this CPU supports, capped by the `GAUNTLET_CPU`
    /// environment variable (`portable`, `avx2` or `avx512`) when it is set,
    /// so that the paths can be compared on one machine. Read once.
    pub fn detect() -> Self {
        static PATH: OnceLock<CpuPath> = OnceLock::new();
        *PATH.get_or_init(|| {
            let best = Self::supported();
            match std::env::var("GAUNTLET_CPU")
                .ok()
                .as_deref()
                .map(Self::parse)
            {
                Some(Some(cap)) => best.min(cap),
                Some(None) => {
                    tracing::warn!("GAUNTLET_CPU is not one of portable, avx2, avx512: ignored");
                    best
                }
                None => best,
            }
        })
    }

    /// The best path the CPU supports.
    pub fn supported() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    /// Parses `portable`, `avx2` or `avx512`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portable" => Some(Self::Portable),
            "avx2" => Some(Self::Avx2),
            "avx512" => Some(Self::Avx512),
            _ => None,
        }
    }

    /// The name `GAUNTLET_CPU` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }
}

/// Defines `fn $name(args) -> ret` that runs `$generic::<Fused>` compiled for
/// AVX-512 or AVX2+FMA when [`CpuPath::detect`] allows, else
/// `$generic::<Split>` as plain code.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident = $generic:ident ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::cpu::{CpuPath, Fused};
                match CpuPath::detect() {
                    CpuPath::Avx512 => {
                        #[target_feature(enable = "avx512f")]
                        unsafe fn v4($($arg: $ty),*) $(-> $ret)? { $generic::<Fused>($($arg),*) }
                        // SAFETY: the CPU has AVX-512F.
                        return unsafe { v4($($arg),*) };
                    }
                    CpuPath::Avx2 => {
                        #[target_feature(enable = "avx2,fma")]
                        unsafe fn v3($($arg: $ty),*) $(-> $ret)? { $generic::<Fused>($($arg),*) }
                        // SAFETY: the CPU has AVX2 and FMA.
                        return unsafe { v3($($arg),*) };
                    }
                    CpuPath::Portable => {}
                }
            }
            $generic::<$crate::cpu::Split>($($arg),*)
        }
    };
}
pub(crate) use multiversion;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_and_orders_paths() {
        for p in [CpuPath::Portable, CpuPath::Avx2, CpuPath::Avx512] {
            assert_eq!(CpuPath::parse(p.name()), Some(p));
        }
        assert_eq!(CpuPath::parse("sse"), None);
        assert!(CpuPath::Portable < CpuPath::Avx2 && CpuPath::Avx2 < CpuPath::Avx512);
        assert!(CpuPath::detect() <= CpuPath::supported());
    }

    #[test]
    fn split_rounds_twice_and_fused_once() {
        // (1 + ε)² − 1 = 2ε + ε²: the product alone rounds ε² away.
        let e = f32::EPSILON;
        let a = 1.0 + e;
        assert_eq!(Split::madd(a, a, -1.0), 2.0 * e);
        assert_eq!(Fused::madd(a, a, -1.0), 2.0 * e + e * e);
    }
}
