//! One cluster's RBAC authorizer, cached. The four RBAC resources are watched from the revision the
//! authorizer was built at; a request first drains those watches without waiting (the store
//! publishes a write's events before the write returns, so a role or binding written by a previous
//! request is always seen) and rebuilds only when something changed. Requests of `system:masters`
//! never get here.

use std::sync::{Arc, Mutex};

use auth::Authorizer;
use serde_json::Value;
use store::{ListQuery, Store, StoreError, Watch};

/// Store resource keys of the RBAC kinds, in the order [`Authorizer::from_objects`] takes them.
pub const RBAC_RESOURCES: [&str; 4] = [
    "rbac.authorization.k8s.io/clusterroles",
    "rbac.authorization.k8s.io/roles",
    "rbac.authorization.k8s.io/clusterrolebindings",
    "rbac.authorization.k8s.io/rolebindings",
];

struct Built {
    authorizer: Arc<Authorizer>,
    watches: Vec<Watch>,
}

/// The cached authorizer of one cluster.
#[derive(Default)]
pub struct RbacCache {
    built: Mutex<Option<Built>>,
}

/// Every stored object of `resource`, page by page.
pub fn list_all(store: &Store, resource: &str) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::new();
    let mut q = ListQuery::all(resource);
    loop {
        let page = store.list(&q)?;
        q.start_after = page.next_start();
        out.extend(page.items.into_iter().map(|s| s.value));
        if q.start_after.is_none() {
            return Ok(out);
        }
    }
}

impl RbacCache {
    /// The authorizer as of now.
    pub fn current(&self, store: &Store) -> Result<Arc<Authorizer>, StoreError> {
        let mut built = self.built.lock().expect("rbac cache lock poisoned");
        if let Some(b) = built.as_mut() {
            let mut changed = false;
            for w in &mut b.watches {
                while let Some(ev) = w.try_next() {
                    changed = true;
                    if ev.is_err() {
                        break;
                    }
                }
            }
            if !changed {
                return Ok(b.authorizer.clone());
            }
        }
        let fresh = build(store)?;
        let authorizer = fresh.authorizer.clone();
        *built = Some(fresh);
        Ok(authorizer)
    }
}

fn build(store: &Store) -> Result<Built, StoreError> {
    // Watch first, then list: a write between the two only causes one extra rebuild.
    let from = store.revision();
    let watches = RBAC_RESOURCES
        .iter()
        .map(|r| store.watch(r, from))
        .collect::<Result<Vec<_>, _>>()?;
    let lists = RBAC_RESOURCES
        .iter()
        .map(|r| list_all(store, r))
        .collect::<Result<Vec<_>, _>>()?;
    let (authorizer, errors) = Authorizer::from_objects(&lists[0], &lists[1], &lists[2], &lists[3]);
    for e in errors {
        tracing::warn!(error = %e, "an RBAC object is ignored");
    }
    Ok(Built {
        authorizer: Arc::new(authorizer),
        watches,
    })
}
