//! Long-lived worker threads for the data-parallel shards: started once with the pool, parked
//! between jobs and woken per job, so a training step spawns no thread.
//!
//! [`Pool::run`] runs one job `f(k)` for every k in 0..threads at once — k = 0 on the calling
//! thread, k ≥ 1 on worker k — and returns when all have finished, so the job may borrow from
//! the caller's stack (like `std::thread::scope`, without creating threads). Thread k always
//! runs part k, which keeps results deterministic for a given thread count.
//!
//! Hand-off: the caller publishes the job and bumps a generation counter; a waiting worker
//! spins on the counter, then yields its core for a couple of milliseconds, then parks (futex),
//! so back-to-back jobs are picked up within a microsecond and an idle pool costs nothing. Why not rayon: its `broadcast` allocates per call,
//! leaves the calling thread idle, and does not pin part k to one thread.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// Busy-wait spins of a waiting thread before it starts yielding.
const SPINS: u32 = 1_000;

/// How long a waiting thread keeps checking (yielding the core to anyone who wants it) before
/// it parks. Waking a parked thread costs a futex call and, on a virtual machine whose idle
/// vCPU has halted, up to a few hundred microseconds; a training step hands work over far
/// more often than that at small sizes.
const ACTIVE_WAIT: Duration = Duration::from_millis(2);

/// Wait until `ready()`: spin, then yield, then park (an `unpark` from the thread that makes it
/// ready ends the park; spurious wake-ups just check again).
fn wait_until(mut ready: impl FnMut() -> bool) {
    let mut spins = 0;
    let mut since: Option<Instant> = None;
    while !ready() {
        if spins < SPINS {
            spins += 1;
            std::hint::spin_loop();
            continue;
        }
        if since.get_or_insert_with(Instant::now).elapsed() < ACTIVE_WAIT {
            thread::yield_now();
        } else {
            thread::park();
        }
    }
}

/// A job as the workers see it: a thin pointer to this, which lives on `run`'s stack.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
}

struct Shared {
    /// Bumped once per job.
    generation: AtomicU64,
    /// The current job (a `*const Job`), valid from the generation bump until `done` reaches
    /// the worker count.
    job: AtomicPtr<()>,
    /// Workers that finished the current job.
    done: AtomicUsize,
    /// A worker's part panicked.
    panicked: AtomicBool,
    /// Set when the pool is dropped.
    stop: AtomicBool,
    /// The thread waiting in `run`, unparked by the last worker to finish.
    caller: Mutex<Option<Thread>>,
}

/// A pool of `threads − 1` workers plus the calling thread.
pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

/// A part of a pool job panicked (the payload of the first one seen on the calling thread,
/// or none when it was a worker's).
#[derive(Debug)]
pub struct JobPanicked(pub Option<Box<dyn Any + Send>>);

impl Pool {
    /// A pool running jobs on `threads` threads (the caller and `threads − 1` workers; at least 1).
    pub fn new(threads: usize) -> Pool {
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            caller: Mutex::new(None),
        });
        let workers = (1..threads.max(1))
            .map(|k| {
                let shared = Arc::clone(&shared);
                thread::Builder::new()
                    .name(format!("rnn-lab-shard-{k}"))
                    .spawn(move || worker(&shared, k))
                    .expect("cannot start a worker thread")
            })
            .collect();
        Pool { shared, workers }
    }

    /// Threads a job runs on, the caller included.
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Run `f(k)` for every k in 0..threads, k = 0 here and the others on the workers, and
    /// wait for all of them. A panic in any part is caught, every part still finishes, and the
    /// result says so.
    pub fn run(&self, f: &(dyn Fn(usize) + Sync)) -> Result<(), JobPanicked> {
        let n = self.workers.len();
        if n == 0 {
            return catch_unwind(AssertUnwindSafe(|| f(0))).map_err(|p| JobPanicked(Some(p)));
        }
        let sh = &*self.shared;
        if let Ok(mut c) = sh.caller.lock() {
            *c = Some(thread::current());
        }
        let job = Job { f };
        sh.done.store(0, Ordering::Relaxed);
        sh.job.store(&job as *const Job<'_> as *mut (), Ordering::Relaxed);
        // Release: the job and `done = 0` are visible to a worker that sees the new generation.
        sh.generation.fetch_add(1, Ordering::Release);
        for w in &self.workers {
            w.thread().unpark();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| f(0)));
        // Wait for every worker: the job borrows this stack frame until then.
        wait_until(|| sh.done.load(Ordering::Acquire) >= n);
        sh.job.store(std::ptr::null_mut(), Ordering::Relaxed);
        let theirs = sh.panicked.swap(false, Ordering::AcqRel);
        match mine {
            Err(p) => Err(JobPanicked(Some(p))),
            Ok(()) if theirs => Err(JobPanicked(None)),
            Ok(()) => Ok(()),
        }
    }

    /// Run `f(k, &mut items[k])` for every item, item k on thread k (`items.len() ≤ threads`).
    pub fn for_each_mut<T: Send>(&self, items: &mut [T], f: impl Fn(usize, &mut T) + Sync) -> Result<(), JobPanicked> {
        assert!(items.len() <= self.threads(), "more items than threads");
        let len = items.len();
        let base = SendPtr(items.as_mut_ptr());
        self.run(&|k| {
            if k < len {
                // SAFETY: `run` calls this closure exactly once for each k in 0..threads, and
                // `items` stays mutably borrowed until `run` returns, so every &mut is to a
                // distinct element of a live slice (k < len).
                let item = unsafe { &mut *base.get().add(k) };
                f(k, item);
            }
        })
    }
}

/// A raw pointer that may cross threads (the pool hands out disjoint elements).
struct SendPtr<T>(*mut T);

impl<T> SendPtr<T> {
    fn get(&self) -> *mut T {
        self.0
    }
}

// SAFETY: only used by `for_each_mut`, which gives each thread a distinct element of a slice of
// `T: Send` for the duration of one `run`.
unsafe impl<T: Send> Sync for SendPtr<T> {}

fn worker(sh: &Shared, k: usize) {
    let mut seen = 0u64;
    loop {
        // An unpark between a check and the park makes the park return at once.
        wait_until(|| sh.stop.load(Ordering::Acquire) || sh.generation.load(Ordering::Acquire) != seen);
        if sh.stop.load(Ordering::Acquire) {
            return;
        }
        seen = sh.generation.load(Ordering::Acquire);
        let job = sh.job.load(Ordering::Relaxed) as *const Job<'_>;
        // SAFETY: the generation changed (Acquire, pairing with run's Release), so `job` points to
        // the Job on the stack of a `run` that is waiting for this worker's `done` below.
        let r = catch_unwind(AssertUnwindSafe(|| unsafe { ((*job).f)(k) }));
        if r.is_err() {
            sh.panicked.store(true, Ordering::Release);
        }
        let caller = sh.caller.lock().ok().and_then(|c| c.clone());
        sh.done.fetch_add(1, Ordering::AcqRel);
        if let Some(c) = caller {
            c.unpark();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        for w in self.workers.drain(..) {
            w.thread().unpark();
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once_on_its_thread() {
        for threads in [1, 2, 3] {
            let pool = Pool::new(threads);
            assert_eq!(pool.threads(), threads);
            for round in 0..200 {
                let mut parts = vec![(0usize, String::new()); threads];
                pool.for_each_mut(&mut parts, |k, p| {
                    p.0 = k * 1000 + round;
                    p.1 = thread::current().name().unwrap_or("caller").to_string();
                })
                .expect("no panic");
                for (k, (v, name)) in parts.iter().enumerate() {
                    assert_eq!(*v, k * 1000 + round);
                    if k > 0 {
                        assert_eq!(name, &format!("rnn-lab-shard-{k}"));
                    }
                }
            }
        }
    }

    #[test]
    fn a_panicking_part_is_reported_and_the_pool_goes_on() {
        let pool = Pool::new(2);
        let r = pool.run(&|k| {
            if k == 1 {
                panic!("worker part fails");
            }
        });
        assert!(matches!(r, Err(JobPanicked(None))));
        let r = pool.run(&|k| {
            if k == 0 {
                panic!("caller part fails");
            }
        });
        assert!(matches!(r, Err(JobPanicked(Some(_)))));
        let mut v = [0, 0];
        pool.for_each_mut(&mut v, |k, x| *x = k + 1).expect("no panic");
        assert_eq!(v, [1, 2]);
    }

    #[test]
    fn fewer_items_than_threads() {
        let pool = Pool::new(3);
        let mut v = [7];
        pool.for_each_mut(&mut v, |k, x| *x += k).expect("no panic");
        assert_eq!(v, [7]);
    }
}
