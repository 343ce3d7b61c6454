//! The provider's signing keys, cached from `jwks_uri`. Keys are fetched at discovery; an ID
//! token with an unknown `kid` (a rotation) triggers one refetch, at most once per
//! [`REFETCH_INTERVAL`] so that forged tokens cannot make us hammer the provider; and while the
//! provider is unreachable the last good keys keep being served.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::JsonWebKeySetUrl;
use openidconnect::core::CoreJsonWebKeySet;

/// The shortest time between two refetches.
pub(crate) const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

struct Cached {
    keys: Arc<CoreJsonWebKeySet>,
    last_refetch: Option<Instant>,
}

pub(crate) struct KeyCache {
    url: JsonWebKeySetUrl,
    cached: RwLock<Cached>,
}

impl KeyCache {
    pub fn new(url: JsonWebKeySetUrl, keys: CoreJsonWebKeySet) -> Self {
        KeyCache {
            url,
            cached: RwLock::new(Cached {
                keys: Arc::new(keys),
                last_refetch: None,
            }),
        }
    }

    /// The keys to verify with now.
    pub fn current(&self) -> Arc<CoreJsonWebKeySet> {
        match self.cached.read() {
            Ok(c) => c.keys.clone(),
            Err(poisoned) => poisoned.into_inner().keys.clone(),
        }
    }

    /// Takes the right to refetch at `now`, if the last refetch is old enough. Taken under the
    /// write lock, so concurrent logins with the same unknown `kid` refetch once.
    fn claim_refetch(&self, now: Instant) -> bool {
        let mut cached = match self.cached.write() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let allowed = cached
            .last_refetch
            .is_none_or(|last| now.saturating_duration_since(last) >= REFETCH_INTERVAL);
        if allowed {
            cached.last_refetch = Some(now);
        }
        allowed
    }

    fn replace(&self, keys: CoreJsonWebKeySet) {
        let mut cached = match self.cached.write() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        cached.keys = Arc::new(keys);
    }

    /// Refetches the keys if allowed; returns whether new keys were loaded. On failure the old
    /// keys stay.
    pub async fn refetch(&self, http: &openidconnect::reqwest::Client) -> bool {
        if !self.claim_refetch(Instant::now()) {
            return false;
        }
        match CoreJsonWebKeySet::fetch_async(&self.url, http).await {
            Ok(keys) => {
                self.replace(keys);
                true
            }
            Err(_) => false,
        }
    }

    /// Lets the next unknown `kid` refetch at once.
    pub fn allow_refetch(&self) {
        if let Ok(mut cached) = self.cached.write() {
            cached.last_refetch = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> KeyCache {
        let url = JsonWebKeySetUrl::new("http://127.0.0.1:1/jwks".into()).unwrap();
        KeyCache::new(url, CoreJsonWebKeySet::new(vec![]))
    }

    #[test]
    fn refetches_are_rate_limited() {
        let cache = cache();
        let t0 = Instant::now();
        assert!(cache.claim_refetch(t0), "the first unknown kid refetches");
        assert!(!cache.claim_refetch(t0 + Duration::from_secs(5)));
        assert!(!cache.claim_refetch(t0 + REFETCH_INTERVAL - Duration::from_millis(1)));
        assert!(cache.claim_refetch(t0 + REFETCH_INTERVAL));
        cache.allow_refetch();
        assert!(cache.claim_refetch(t0 + REFETCH_INTERVAL + Duration::from_secs(1)));
    }

    #[tokio::test]
    async fn an_unreachable_provider_keeps_the_old_keys() {
        let key: openidconnect::core::CoreJsonWebKey = serde_json::from_value(serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "k1",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }))
        .unwrap();
        let url = JsonWebKeySetUrl::new("http://127.0.0.1:1/jwks".into()).unwrap();
        let cache = KeyCache::new(url, CoreJsonWebKeySet::new(vec![key]));
        let http = openidconnect::reqwest::Client::new();
        assert!(!cache.refetch(&http).await, "nothing listens on port 1");
        assert_eq!(cache.current().keys().len(), 1);
        assert!(!cache.refetch(&http).await, "and no second attempt at once");
    }
}
