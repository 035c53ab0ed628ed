//! Why the service could not start (or stop cleanly).

/// `Result` with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the service could not start or stop cleanly. Each start-up error names the setting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The trust anchors cannot be loaded.
    #[error("cannot load trust anchors (setting `trust_anchors`)")]
    TrustAnchors(#[source] honnin_jpki::Error),
    /// The signature roots (age claims) cannot be loaded.
    #[error("cannot load the signature roots (setting `signing_trust_anchors`)")]
    SigningTrustAnchors(#[source] honnin_jpki::Error),
    /// The CRLs cannot be loaded or verified at start-up.
    #[error("cannot load the CRLs (setting `revocation`)")]
    Crl(#[source] honnin_jpki::Error),
    /// A setting holds a value the part using it cannot take.
    #[error("invalid setting `{key}`: {reason}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// What is wrong (never the value: it may be a secret).
        reason: &'static str,
    },
    /// The database folder cannot be created.
    #[error("cannot create the database folder")]
    DatabaseFolder(#[source] std::io::Error),
    /// The database cannot be opened or migrated.
    #[error("cannot open or migrate the database (setting `database_url`)")]
    Store(#[source] honnin_store::Error),
    /// The store failed at run time (the writer's own connections).
    #[error("cannot open the chain writer's database connections")]
    WriterStore(#[source] honnin_store::Error),
    /// The chain writer cannot be built or did not stop cleanly.
    #[error("chain writer")]
    Writer(#[source] honnin_chain::Error),
    /// The listen address cannot be bound.
    #[error("cannot listen on {address} (setting `listen`)")]
    Listen {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An endpoint declared in the configuration is refused.
    #[error("webhook endpoint `{name}` (setting `webhooks.endpoints`): {reason}")]
    Webhook {
        /// The endpoint's name.
        name: String,
        /// What is wrong (never the secret).
        reason: String,
    },
    /// The configured scopes cannot be registered.
    #[error("cannot register the configured scopes (setting `scopes`)")]
    Scopes(#[source] honnin_core::StoreError),
    /// The configured webhook endpoints cannot be recorded.
    #[error("cannot record the configured webhook endpoints (setting `webhooks.endpoints`)")]
    WebhookSync(#[source] honnin_core::StoreError),
    /// The webhook worker's HTTP client cannot be built.
    #[error("cannot build the webhook HTTP client")]
    WebhookClient(#[source] reqwest::Error),
    /// A task of the service panicked.
    #[error("a service task panicked")]
    Panicked,
}
