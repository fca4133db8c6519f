//! How many cores a stage that could run on several threads finds idle now.
//!
//! Splitting work over threads pays only where the threads get cores of their own. Where the
//! machine's other cores are busy (a build running beside, a CI runner shared with other
//! jobs), the threads share one core and their cost (another allocator arena, data moved
//! between caches, waiting at the join) is not repaid: on a 2-core machine whose second core
//! was busy, generating Stripe's and GitHub's modules took longer split over threads than on
//! one (`codegen`'s benchmark, "Speed" in its README). So a stage asks first.
//!
//! On Linux the answer is the machine's online cores (`/sys/devices/system/cpu/online`) less
//! the tasks other than the caller that are runnable now (`/proc/loadavg`, which counts this
//! process's other threads too), at most the cores this process may use (its affinity and
//! cgroup quota, as `std::thread::available_parallelism` reads them), and at least 1. Elsewhere,
//! or when those files cannot be read, it is the cores this process may use. It is a snapshot,
//! taken in about 7 µs (the online cores and the usable ones are read once per process).
//!
//! Both files describe the whole machine, not a container or a CPU set: a process limited to 2
//! cores of a 64-core host is told 2 while the host has idle cores, even if its own quota is
//! spent, and 1 when the host is busy, even if its own cores are not.

use std::num::NonZeroUsize;

/// The cores idle now that this process may use, counting the caller's: at least 1.
pub fn idle() -> usize {
    // Read once (std reads the cgroup's quota from several files each time).
    static USABLE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let usable =
        *USABLE.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    idle_of(usable, on_machine())
}

/// The idle cores a process that may use `usable` cores finds on a machine of `online` cores
/// with `runnable` tasks runnable (the caller among them), if those are known.
fn idle_of(usable: usize, machine: Option<(usize, usize)>) -> usize {
    match machine {
        Some((online, runnable)) => {
            let others = runnable.saturating_sub(1);
            usable.min(online.saturating_sub(others)).max(1)
        }
        None => usable.max(1),
    }
}

/// The machine's online cores and its runnable tasks (Linux).
fn on_machine() -> Option<(usize, usize)> {
    // Read once: cores rarely go on or off line while a process runs.
    static ONLINE: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    let online = (*ONLINE.get_or_init(|| {
        let list = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
        online_cores(&list)
    }))?;
    let load = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some((online, runnable(&load)?))
}

/// The runnable tasks in a `/proc/loadavg` text (its fourth field: `running/total`),
/// counting the reader.
fn runnable(loadavg: &str) -> Option<usize> {
    let field = loadavg.split_whitespace().nth(3)?;
    field.split('/').next()?.parse().ok()
}

/// The cores in a CPU list such as `/sys/devices/system/cpu/online`'s: `0-3,6,8-9` is 7.
fn online_cores(list: &str) -> Option<usize> {
    let mut count: usize = 0;
    for part in list.trim().split(',') {
        let cores = match part.split_once('-') {
            Some((first, last)) => {
                let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
                last.checked_sub(first)?.checked_add(1)?
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
        count = count.checked_add(cores)?;
    }
    (count > 0).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runnable_tasks_are_read_from_the_fourth_field() {
        assert_eq!(runnable("0.52 0.58 0.59 3/457 12345\n"), Some(3));
        assert_eq!(runnable("0.52 0.58 0.59 1/90 7"), Some(1));
        assert_eq!(runnable("0.52 0.58 0.59"), None);
        assert_eq!(runnable("0.52 0.58 0.59 x/90 7"), None);
    }

    #[test]
    fn cpu_lists_count_ranges_and_single_cores() {
        assert_eq!(online_cores("0-1\n"), Some(2));
        assert_eq!(online_cores("0"), Some(1));
        assert_eq!(online_cores("0-3,6,8-9"), Some(7));
        assert_eq!(online_cores(""), None);
        assert_eq!(online_cores("3-1"), None);
        assert_eq!(online_cores("0-x"), None);
        assert_eq!(online_cores("0-18446744073709551615"), None);
    }

    /// (usable, online, runnable counting the caller) → idle.
    #[test]
    fn the_caller_is_not_counted_against_itself() {
        for (usable, online, runnable, idle) in [
            // An idle 2-core machine: the caller alone is runnable.
            (2, 2, 1, 2),
            // One other task busy: one core left, the caller's.
            (2, 2, 2, 1),
            // More runnable tasks than cores: still the caller's.
            (2, 2, 9, 1),
            // A big busy host, a process allowed 2 of its cores.
            (2, 64, 20, 2),
            (2, 64, 64, 1),
            (8, 8, 3, 6),
            // Nothing counted (a snapshot taken between two tasks).
            (4, 4, 0, 4),
        ] {
            assert_eq!(
                idle_of(usable, Some((online, runnable))),
                idle,
                "{usable} usable, {online} online, {runnable} runnable"
            );
        }
        assert_eq!(idle_of(3, None), 3);
        assert_eq!(idle_of(0, None), 1);
    }

    #[test]
    fn at_least_one_core_and_never_more_than_usable() {
        let usable = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let idle = idle();
        assert!((1..=usable).contains(&idle), "{idle} of {usable}");
    }
}
