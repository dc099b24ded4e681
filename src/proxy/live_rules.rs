//! The rule set in force: the rules file plus the command-line quick forms, replaced as a
//! whole when the file changes. Readers take a snapshot (`current`) per exchange, so a reload
//! never changes the rules under a request that is already being handled.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::rules::{RuleSet, RulesError};

pub struct LiveRules {
    current: RwLock<Arc<RuleSet>>,
    file: Option<PathBuf>,
    quick: RuleSet,
    /// Fingerprint of the file's bytes when it was last loaded (or found invalid). Contents,
    /// not mtime: an edit within the same timestamp tick must not be missed.
    seen: RwLock<Option<u64>>,
}

impl LiveRules {
    /// Load `file` (if any) and append the quick forms; an invalid file is an error here.
    pub fn load(file: Option<&Path>, quick: RuleSet) -> Result<LiveRules, RulesError> {
        let live = LiveRules {
            current: RwLock::new(Arc::new(RuleSet::default())),
            file: file.map(Path::to_path_buf),
            quick,
            seen: RwLock::new(None),
        };
        live.reload()?;
        Ok(live)
    }

    pub fn none() -> LiveRules {
        LiveRules {
            current: RwLock::new(Arc::new(RuleSet::default())),
            file: None,
            quick: RuleSet::default(),
            seen: RwLock::new(None),
        }
    }

    pub fn current(&self) -> Arc<RuleSet> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Re-read the file and swap the whole set in; on error the old set stays.
    pub fn reload(&self) -> Result<usize, RulesError> {
        let fingerprint = self.file.as_deref().and_then(fingerprint);
        if let Ok(mut seen) = self.seen.write() {
            *seen = fingerprint;
        }
        let mut set = match &self.file {
            Some(path) => RuleSet::load(path)?,
            None => RuleSet::default(),
        };
        set.extend(self.quick.clone());
        let count = set.rules.len();
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(set),
            Err(p) => *p.into_inner() = Arc::new(set),
        }
        Ok(count)
    }

    /// True when the file's contents differ from the ones last loaded.
    pub fn changed(&self) -> bool {
        let Some(path) = &self.file else {
            return false;
        };
        let now = fingerprint(path);
        self.seen.read().map(|s| *s != now).unwrap_or(false)
    }
}

/// A hash of the file's bytes (rules files are small; this runs a few times a second).
fn fingerprint(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_swaps_valid_edits_and_keeps_the_old_set_on_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules.toml");
        std::fs::write(&file, "[[rule]]\nname = \"a\"\nblock = true\n").unwrap();
        let live = LiveRules::load(Some(&file), RuleSet::default()).unwrap();
        assert_eq!(live.current().rules[0].name, "a");
        assert!(!live.changed());
        std::fs::write(&file, "[[rule]]\nname = \"b\"\nblock = true\n").unwrap();
        // Same length, written within the same second: only the contents tell it apart.
        assert!(live.changed());
        assert_eq!(live.reload().unwrap(), 1);
        assert_eq!(live.current().rules[0].name, "b");
        std::fs::write(&file, "[[rule]]\nname = \"c\"\nnonsense = 1\n").unwrap();
        assert!(live.reload().is_err());
        assert_eq!(
            live.current().rules[0].name,
            "b",
            "an invalid edit keeps the old rules"
        );
        assert!(
            !live.changed(),
            "an invalid file is not retried until it changes again"
        );
    }
}
