//! The instruction-set level vexpr runs at.
//!
//! In: what the CPU has (probed once), the `VEXPR_CPU` environment variable
//! or [`set_cpu_level`] (a cap for the whole process), and
//! [`Options::with_cpu`](crate::Options::with_cpu) (a cap for one run, held
//! in a thread-local while the run's threads work). Out: [`Level`], the level
//! every kernel dispatch and the code generator read through
//! [`Level::current`]: the lowest of the three.
//!
//! Why a cap: a machine with AVX-512 can then run, test and measure the code
//! an AVX2 laptop or an SSE2-only CPU runs (in the spirit of NumPy's
//! `NPY_DISABLE_CPU_FEATURES`). A cap never raises the level above the
//! hardware's; asking for more is an error in the API and the command line,
//! and a warning (once, on stderr) when it comes from `VEXPR_CPU` in a
//! library, where nothing else could report it.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level: which vector instructions vexpr's kernels and
/// machine code may use.
///
/// Ordered from the least to the most capable. `Avx2` and `Avx512` exist on
/// every target but are available only on x86-64 CPUs that have them.
///
/// ```
/// use vexpr::CpuLevel;
/// let level: CpuLevel = "avx2".parse().unwrap();
/// assert_eq!(level.to_string(), "avx2");
/// assert!(CpuLevel::Baseline < level);
/// assert!(CpuLevel::detected() >= CpuLevel::Baseline);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum CpuLevel {
    /// The compile-time target only: SSE2 on x86-64, NEON on aarch64.
    Baseline,
    /// AVX2 and FMA (Intel Haswell, AMD Zen 1 and later).
    Avx2,
    /// AVX-512 F, DQ, VL and BW with AVX2 and FMA (Intel Skylake-X and
    /// later server CPUs, AMD Zen 4 and later); vexpr's machine code.
    Avx512,
}

impl CpuLevel {
    /// Every level, lowest first.
    pub const ALL: [CpuLevel; 3] = [CpuLevel::Baseline, CpuLevel::Avx2, CpuLevel::Avx512];

    /// The best level this CPU supports, whatever the caps.
    ///
    /// ```
    /// assert!(vexpr::cpu_level() <= vexpr::CpuLevel::detected());
    /// ```
    pub fn detected() -> CpuLevel {
        Level::hardware().public()
    }

    /// The name `VEXPR_CPU` and [`FromStr`] take: `baseline`, `avx2` or
    /// `avx512`.
    ///
    /// ```
    /// assert_eq!(vexpr::CpuLevel::Avx512.name(), "avx512");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            CpuLevel::Baseline => "baseline",
            CpuLevel::Avx2 => "avx2",
            CpuLevel::Avx512 => "avx512",
        }
    }

    /// The internal level, if this CPU can run it.
    fn available(self) -> Option<Level> {
        let level = match self {
            CpuLevel::Baseline => Level::Baseline,
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Avx2 => Level::Avx2Fma,
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Avx512 => Level::Avx512,
            #[cfg(not(target_arch = "x86_64"))]
            _ => return None,
        };
        (level <= Level::hardware()).then_some(level)
    }

    /// The error for asking for `self` on a CPU without it.
    pub(crate) fn unavailable(self) -> String {
        format!(
            "this CPU supports instruction-set levels up to `{}`, not `{}`",
            CpuLevel::detected(),
            self
        )
    }
}

impl fmt::Display for CpuLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`CpuLevel`] from a name it does not have.
///
/// ```
/// let err = "sse9".parse::<vexpr::CpuLevel>().unwrap_err();
/// assert!(err.to_string().contains("baseline, avx2, avx512"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseCpuLevelError(String);

impl fmt::Display for ParseCpuLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown CPU level `{}` (expected one of: baseline, avx2, avx512)",
            self.0
        )
    }
}

impl std::error::Error for ParseCpuLevelError {}

impl FromStr for CpuLevel {
    type Err = ParseCpuLevelError;

    /// Case-insensitive, surrounding spaces ignored.
    fn from_str(s: &str) -> Result<CpuLevel, ParseCpuLevelError> {
        let name = s.trim().to_ascii_lowercase();
        CpuLevel::ALL
            .into_iter()
            .find(|level| level.name() == name)
            .ok_or_else(|| ParseCpuLevelError(s.to_string()))
    }
}

/// The level the process runs at when no run asks for a lower one: the
/// CPU's, capped by `VEXPR_CPU` or by [`set_cpu_level`].
///
/// ```
/// let level = vexpr::cpu_level();
/// assert!(level <= vexpr::CpuLevel::detected());
/// ```
pub fn cpu_level() -> CpuLevel {
    process_cap().public()
}

/// Caps the level of the whole process (as `VEXPR_CPU` does, and replacing
/// it): later runs use no instructions above `level`. Asking for more than
/// the CPU has is an error, and changes nothing.
///
/// Programs compiled to machine code keep code for each level they have run
/// at, so switching back and forth costs one code generation per level.
///
/// ```
/// use vexpr::CpuLevel;
/// vexpr::set_cpu_level(CpuLevel::Baseline).unwrap();
/// assert_eq!(vexpr::cpu_level(), CpuLevel::Baseline);
/// vexpr::set_cpu_level(CpuLevel::detected()).unwrap();
/// ```
pub fn set_cpu_level(level: CpuLevel) -> Result<(), String> {
    let internal = level.available().ok_or_else(|| level.unavailable())?;
    PROCESS_CAP.store(internal as u8, Ordering::Relaxed);
    Ok(())
}

/// The level `VEXPR_CPU` asks for, checked against this CPU: `Ok(None)`
/// when it is unset or empty. The command line reports an error from this;
/// the library, reading the same variable, warns and runs at the best level
/// it can.
///
/// ```
/// // Unset, or a level this CPU has:
/// assert!(vexpr::cpu_level_from_env().is_ok() || std::env::var_os("VEXPR_CPU").is_some());
/// ```
pub fn cpu_level_from_env() -> Result<Option<CpuLevel>, String> {
    let Some(value) = std::env::var_os("VEXPR_CPU") else {
        return Ok(None);
    };
    let value = value.to_string_lossy();
    if value.trim().is_empty() {
        return Ok(None);
    }
    let level: CpuLevel = value.parse().map_err(|e| format!("VEXPR_CPU: {e}"))?;
    match level.available() {
        Some(_) => Ok(Some(level)),
        None => Err(format!("VEXPR_CPU: {}", level.unavailable())),
    }
}

/// A set of CPU features the kernels are compiled for and the code
/// generator emits: the internal side of [`CpuLevel`], with only the levels
/// this target has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The compile-time target only (SSE2 on x86-64).
    Baseline = 1,
    /// AVX2 and FMA (Haswell, Zen 1 and later).
    #[cfg(target_arch = "x86_64")]
    Avx2Fma = 2,
    /// AVX-512 F, DQ, VL and BW together with AVX2 and FMA (every AVX-512
    /// CPU since Skylake-X; BW gives byte-sized booleans their own masks).
    #[cfg(target_arch = "x86_64")]
    Avx512 = 3,
}

/// `Level` as stored in the caps; 0 is "not set".
fn from_u8(n: u8) -> Option<Level> {
    match n {
        1 => Some(Level::Baseline),
        #[cfg(target_arch = "x86_64")]
        2 => Some(Level::Avx2Fma),
        #[cfg(target_arch = "x86_64")]
        3 => Some(Level::Avx512),
        _ => None,
    }
}

/// The process cap (0 until first read, when `VEXPR_CPU` sets it).
static PROCESS_CAP: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// The cap of the run this thread works for (0: none).
    static RUN_CAP: Cell<u8> = const { Cell::new(0) };
}

/// The process cap, reading `VEXPR_CPU` on the first call.
fn process_cap() -> Level {
    if let Some(level) = from_u8(PROCESS_CAP.load(Ordering::Relaxed)) {
        return level;
    }
    let level = match cpu_level_from_env() {
        Ok(asked) => asked
            .and_then(CpuLevel::available)
            .unwrap_or(Level::hardware()),
        Err(message) => {
            let best = Level::hardware();
            eprintln!("vexpr: warning: {message}; running at `{}`", best.public());
            best
        }
    };
    // A racing first call computes the same level (and may warn twice).
    PROCESS_CAP.store(level as u8, Ordering::Relaxed);
    level
}

impl Level {
    /// The best level this CPU supports, probed once and cached.
    pub(crate) fn hardware() -> Level {
        static CACHE: AtomicU8 = AtomicU8::new(0);
        from_u8(CACHE.load(Ordering::Relaxed)).unwrap_or_else(|| {
            let level = Self::probe();
            CACHE.store(level as u8, Ordering::Relaxed);
            level
        })
    }

    /// The level to run at now: the hardware's, capped by the process
    /// setting and by the cap of the run this thread works for.
    pub(crate) fn current() -> Level {
        let cap = process_cap();
        match from_u8(RUN_CAP.with(Cell::get)) {
            Some(run) => cap.min(run),
            None => cap,
        }
    }

    fn probe() -> Level {
        // Miri interprets no AVX2/AVX-512 intrinsics nor machine code: at the
        // baseline level every kernel is portable Rust, and machine code is
        // never made, so the whole VM runs under Miri.
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        {
            let avx2_fma = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
            if avx2_fma
                && is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512bw")
            {
                return Level::Avx512;
            }
            if avx2_fma {
                return Level::Avx2Fma;
            }
        }
        Level::Baseline
    }

    /// The public name of this level.
    pub(crate) fn public(self) -> CpuLevel {
        match self {
            Level::Baseline => CpuLevel::Baseline,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => CpuLevel::Avx2,
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => CpuLevel::Avx512,
        }
    }

    /// Every level this process can run, lowest first (tests run them all):
    /// the hardware's and those below, up to the process cap.
    #[cfg(test)]
    pub(crate) fn supported() -> Vec<Level> {
        let all = [
            Level::Baseline,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma,
            #[cfg(target_arch = "x86_64")]
            Level::Avx512,
        ];
        all.into_iter().filter(|&l| l <= Level::current()).collect()
    }
}

/// Runs `f` on this thread with the run cap `cap` (none: the process
/// level), restoring the previous cap after, also when `f` panics.
pub(crate) fn with_run_cap<R>(cap: Option<CpuLevel>, f: impl FnOnce() -> R) -> R {
    let Some(cap) = cap else {
        return f();
    };
    // A cap above the hardware was refused before the run; be safe anyway.
    let level = cap.available().unwrap_or(Level::hardware());
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUN_CAP.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(RUN_CAP.with(|c| c.replace(level as u8)));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for level in CpuLevel::ALL {
            assert_eq!(level.name().parse::<CpuLevel>(), Ok(level));
            assert_eq!(
                level.to_string().to_uppercase().parse::<CpuLevel>(),
                Ok(level)
            );
        }
        assert!("avx".parse::<CpuLevel>().is_err());
        assert!("".parse::<CpuLevel>().is_err());
    }

    #[test]
    fn a_run_cap_lowers_the_level_on_its_thread_only_and_is_restored() {
        let before = Level::current();
        with_run_cap(Some(CpuLevel::Baseline), || {
            assert_eq!(Level::current(), Level::Baseline);
            std::thread::scope(|s| {
                s.spawn(|| assert_eq!(Level::current(), before));
            });
        });
        assert_eq!(Level::current(), before);
        let caught = std::panic::catch_unwind(|| {
            with_run_cap(Some(CpuLevel::Baseline), || panic!("inside"));
        });
        assert!(caught.is_err());
        assert_eq!(Level::current(), before);
    }

    #[test]
    fn levels_above_the_hardware_are_unavailable() {
        let hw = CpuLevel::detected();
        for level in CpuLevel::ALL {
            assert_eq!(level.available().is_some(), level <= hw, "{level}");
        }
        if hw < CpuLevel::Avx512 {
            assert!(set_cpu_level(CpuLevel::Avx512).is_err());
        }
    }
}
