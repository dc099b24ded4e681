//! Limits on client connections: how long a client may take to send a request head, how many
//! connections one client address may hold open, how many upstream connections one client
//! connection may hold, and the file-descriptor limit they draw on.
//!
//! Owns the counting and the values; `mod.rs` decides what a refused client is told.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// `--header-read-timeout` default: a slow or silent client is closed after this long.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// `--max-conns-per-client` default. Every local client (go, git, the tests) shares
/// 127.0.0.1, so this is generous; the go command opens a handful.
pub const DEFAULT_MAX_CONNS_PER_CLIENT: usize = 512;
/// Upstream HTTP/1.1 connections one client connection may hold at once. An HTTP/1.1 client
/// connection needs one at a time; an h2 client multiplexes requests, and against an
/// HTTP/1.1-only upstream each concurrent request would otherwise open a connection of its
/// own (up to hundreds). Sixteen is more than a browser's six per host and leaves the go
/// command's parallel downloads over one h2 connection room; further requests wait for a
/// connection to come free.
pub const MAX_UPSTREAM_CONNS_PER_CLIENT_CONN: usize = 16;
/// Connections over the limit that are still read and answered 503 (so the client learns
/// why); past these, further connections from that address are closed at once.
const REFUSAL_SLOTS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// A request head (or a TLS ClientHello in a tunnel) must arrive within this; also how
    /// long an idle keep-alive connection is kept. `None`: no limit.
    pub header_read_timeout: Option<Duration>,
    /// Open connections per client IP address; 0: no limit.
    pub max_conns_per_client: usize,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
            max_conns_per_client: DEFAULT_MAX_CONNS_PER_CLIENT,
        }
    }
}

/// What to do with a newly accepted connection.
pub enum Admission {
    Serve(Permit),
    /// Over the limit: answer its request with a 503 that says why, then close.
    Refuse(Permit),
    /// Far over the limit: close without reading.
    Close,
}

/// Open connections per client address.
pub struct ConnCounter {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl ConnCounter {
    pub fn new(limit: usize) -> Arc<ConnCounter> {
        Arc::new(ConnCounter {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Admission {
        let mut open = self.lock();
        let count = open.entry(ip).or_insert(0);
        let admission = if self.limit == 0 || *count < self.limit {
            Admission::Serve
        } else if *count < self.limit + REFUSAL_SLOTS {
            Admission::Refuse
        } else {
            return Admission::Close;
        };
        *count += 1;
        admission(Permit {
            counter: self.clone(),
            ip,
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    #[cfg(test)]
    fn open(&self, ip: IpAddr) -> usize {
        self.lock().get(&ip).copied().unwrap_or(0)
    }
}

/// One counted connection; dropping it (also while a panicking task unwinds) frees the slot.
pub struct Permit {
    counter: Arc<ConnCounter>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.counter.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Raise the soft limit on open files to the hard limit: each proxied connection costs two
/// descriptors (client and upstream), and a common soft default of 1024 runs out long before
/// the connection limits do. Returns the soft limit in force afterwards.
#[cfg(unix)]
pub fn raise_fd_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    // macOS reports an unlimited hard limit but refuses a soft limit above OPEN_MAX.
    let wanted = if lim.rlim_max == libc::RLIM_INFINITY {
        lim.rlim_cur.max(10_240)
    } else {
        lim.rlim_max
    };
    if wanted > lim.rlim_cur {
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = wanted;
        }
    }
    // rlim_t is u64 on Linux and macOS, but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    Some(lim.rlim_cur as u64)
}

#[cfg(not(unix))]
pub fn raise_fd_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(a: &Admission) -> &'static str {
        match a {
            Admission::Serve(_) => "serve",
            Admission::Refuse(_) => "refuse",
            Admission::Close => "close",
        }
    }

    #[test]
    fn connections_past_the_limit_are_refused_then_closed_and_slots_come_back() {
        let c = ConnCounter::new(2);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let held: Vec<Admission> = (0..2 + REFUSAL_SLOTS).map(|_| c.admit(ip)).collect();
        assert_eq!(kind(&held[0]), "serve");
        assert_eq!(kind(&held[1]), "serve");
        assert!(held[2..].iter().all(|a| kind(a) == "refuse"));
        assert_eq!(kind(&c.admit(ip)), "close");
        assert_eq!(
            kind(&c.admit(other)),
            "serve",
            "another address is not affected"
        );
        assert_eq!(c.open(ip), 2 + REFUSAL_SLOTS, "a closed one holds no slot");
        drop(held);
        assert_eq!(c.open(ip), 0);
        assert_eq!(kind(&c.admit(ip)), "serve");
    }

    #[test]
    fn zero_means_no_limit() {
        let c = ConnCounter::new(0);
        let ip: IpAddr = "::1".parse().unwrap();
        let held: Vec<Admission> = (0..2000).map(|_| c.admit(ip)).collect();
        assert!(held.iter().all(|a| kind(a) == "serve"));
    }

    #[test]
    fn a_permit_is_returned_when_its_task_panics() {
        let c = ConnCounter::new(1);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let c2 = c.clone();
        let joined = std::thread::spawn(move || {
            let _permit = c2.admit(ip);
            panic!("connection task panics");
        })
        .join();
        assert!(joined.is_err());
        assert_eq!(kind(&c.admit(ip)), "serve");
    }

    #[cfg(unix)]
    #[test]
    fn fd_limit_is_raised_to_the_hard_limit() {
        let soft = raise_fd_limit().unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        #[allow(clippy::unnecessary_cast)]
        let cur = lim.rlim_cur as u64;
        assert_eq!(cur, soft);
        if lim.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(lim.rlim_cur, lim.rlim_max);
        }
    }
}
