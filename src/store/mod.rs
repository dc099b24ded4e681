//! The store and how it is watched: `flows` holds the bounded record and decides what each
//! change is; `observer` is the one seam through which anything follows it.

mod flows;
pub mod observer;
#[cfg(test)]
pub(crate) mod testing;

pub use flows::{Event, EventKind, Store, StoreLimits, Subscription};
pub use observer::{Observer, Observers};
