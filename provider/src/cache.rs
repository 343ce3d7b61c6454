//! Read-mostly data kept in memory: the registered clients, read on every authorization, token,
//! UserInfo and logout request, written a few times a day.
//!
//! An entry lives [`CLIENT_TTL`] at most. A change made by this process (registration management)
//! forgets its entry at once; a change made by another process on the same database (another
//! provider behind the load balancer, the `clients` command) is seen within [`CLIENT_TTL`]. Unknown
//! ids are never cached, so random ids cannot fill the memory.

use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::oidc::client::Client;

/// How long another process's change to a client may go unseen here.
pub const CLIENT_TTL: Duration = Duration::from_secs(1);

/// The clients this process read lately, by id (a sharded map: no global lock).
#[derive(Default)]
pub struct ClientCache {
    entries: DashMap<String, (Instant, Client)>,
}

impl ClientCache {
    /// The cached client, if read less than [`CLIENT_TTL`] ago.
    pub fn get(&self, id: &str) -> Option<Client> {
        let entry = self.entries.get(id)?;
        let (read_at, client) = entry.value();
        (read_at.elapsed() < CLIENT_TTL).then(|| client.clone())
    }

    /// Keeps a client just read from the database.
    pub fn put(&self, client: Client) {
        self.entries
            .insert(client.id.as_str().to_string(), (Instant::now(), client));
    }

    /// Forgets a client this process changed or removed.
    pub fn forget(&self, id: &str) {
        self.entries.remove(id);
    }
}
