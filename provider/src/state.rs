//! The application state: one cheap-to-clone handle shared by every handler.

use std::ops::Deref;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::{KeyRing, Sealer};
use crate::oidc::client::Client;
use crate::oidc::types::ClientId;
use crate::store::Store;

/// Shared state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the state holds.
pub struct Inner {
    /// The configuration.
    pub config: Config,
    /// The issuer, without a trailing slash, exactly as in tokens and discovery.
    pub issuer: String,
    /// The database.
    pub store: Store,
    /// Signing keys.
    pub keys: KeyRing,
    /// Encryption at rest.
    pub sealer: Sealer,
    /// The time.
    pub clock: Clock,
    /// Secret salt for pairwise subject identifiers.
    pub pairwise_salt: Vec<u8>,
    /// The population registry.
    pub registry: crate::registry::Registry,
    /// Notification senders.
    pub sender: crate::notify::Sender,
    /// The discovery document, built once.
    pub discovery: String,
    /// A password hash checked when the username is unknown, so the answer takes as long.
    pub dummy_hash: String,
    /// Rate limits and the password hashing pool.
    pub limits: crate::limits::Limits,
    /// Prometheus metrics of this provider.
    pub metrics: crate::metrics::Metrics,
    /// The clients read lately.
    pub clients: crate::cache::ClientCache,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Wraps the parts.
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }

    /// The current time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// An absolute URL at this provider.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// The registered client with this id, from memory when read less than a second ago
    /// (see [`crate::cache`]).
    pub async fn client(&self, id: &ClientId) -> Result<Option<Client>, crate::error::AppError> {
        if let Some(client) = self.clients.get(id.as_str()) {
            return Ok(Some(client));
        }
        let client = self.client_from_database(id).await?;
        if let Some(client) = &client {
            self.clients.put(client.clone());
        }
        Ok(client)
    }

    /// The registered client with this id as the database has it now (registration management,
    /// which must never answer with a change another process made a moment ago unseen).
    pub async fn client_from_database(
        &self,
        id: &ClientId,
    ) -> Result<Option<Client>, crate::error::AppError> {
        match self.store.client(id.as_str()).await? {
            Some(row) => Ok(Some(Client::try_from(row)?)),
            None => Ok(None),
        }
    }
}
