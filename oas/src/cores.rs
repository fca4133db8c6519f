//! How many cores a stage that could run on several threads finds idle now.
//!
//! Splitting work over threads pays only where the threads get cores of their own. Where the
//! machine's other cores are busy (a build running beside, a CI runner shared with other
//! jobs), the threads share one core and their cost (another allocator arena, data moved
//! between caches, waiting at the join) is not repaid: on a 2-core machine whose second core
//! was busy, generating Stripe's and GitHub's modules took longer split over threads than on
//! one (`codegen`'s benchmark, "Speed" in its README). So a stage asks first.
//!
//! On Linux the answer is the cores this process may use, less the tasks other than the
//! caller that are runnable now (`/proc/loadavg`), against the online cores
//! (`/sys/devices/system/cpu/online`, read once): a snapshot. Elsewhere, or
//! when those files cannot be read, it is the cores this process may use.

use std::num::NonZeroUsize;

/// The cores idle now that this process may use, counting the caller's: at least 1.
pub fn idle() -> usize {
    // Read once (std reads the cgroup's quota from several files each time).
    static USABLE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let usable =
        *USABLE.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    match idle_on_machine() {
        Some(idle) => usable.min(idle).max(1),
        None => usable,
    }
}

/// The machine's online cores less its runnable tasks other than the caller (Linux).
fn idle_on_machine() -> Option<usize> {
    // Read once: cores rarely go on or off line while a process runs.
    static ONLINE: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    let online = (*ONLINE.get_or_init(|| {
        let list = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
        online_cores(&list)
    }))?;
    let load = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(online.saturating_sub(runnable(&load)?.saturating_sub(1)))
}

/// The runnable tasks in a `/proc/loadavg` text (its fourth field: `running/total`),
/// counting the reader.
fn runnable(loadavg: &str) -> Option<usize> {
    let field = loadavg.split_whitespace().nth(3)?;
    field.split('/').next()?.parse().ok()
}

/// The cores in a CPU list such as `/sys/devices/system/cpu/online`'s: `0-3,6,8-9` is 7.
fn online_cores(list: &str) -> Option<usize> {
    let mut count = 0;
    for part in list.trim().split(',') {
        count += match part.split_once('-') {
            Some((first, last)) => {
                let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
                last.checked_sub(first)? + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
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
    }

    #[test]
    fn at_least_one_core_and_never_more_than_usable() {
        let usable = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let idle = idle();
        assert!((1..=usable).contains(&idle), "{idle} of {usable}");
    }
}
