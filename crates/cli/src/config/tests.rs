//! Resolution of settings: defaults, precedence, and errors that name the setting.

use std::{path::PathBuf, time::Duration};

use honnin_core::{Address, AtLimit};
use honnin_service::{RevocationConfig, Secret, config::DEFAULT_DATABASE_URL};

use super::{ServeConfig, Settings, SyncConfig, error::ConfigError, settings::DEFAULT_LOG_FILTER};

fn production() -> Settings {
    Settings {
        trust_anchors: Some("/etc/honnin/roots".into()),
        revocation: Some("crl:/var/lib/honnin/auth.crl".into()),
        pepper: Some(Secret::new("11".repeat(32))),
        domain: Some("kyc.example.jp".into()),
        chain_id: Some(1),
        registry: Some(Address::repeat_byte(1)),
        ..Settings::default()
    }
}

#[test]
fn production_settings_resolve_with_defaults() {
    let config = ServeConfig::from_settings(production()).unwrap();
    assert!(!config.service.dev);
    assert_eq!(config.service.http.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.service.database.url.expose(), DEFAULT_DATABASE_URL);
    assert_eq!(config.service.database.sqlite_dir(), Some(PathBuf::from("./honnin-data")));
    assert_eq!(
        config.service.card.revocation,
        RevocationConfig::Crl(vec!["/var/lib/honnin/auth.crl".into()])
    );
    assert_eq!(config.service.challenges.lifetime(), time::Duration::minutes(10));
    assert_eq!(config.service.policy, honnin_core::Policy::default());
    assert_eq!(config.service.limits.body_bytes, 64 * 1024);
}

#[test]
fn each_missing_required_setting_is_named() {
    for (key, clear) in [
        ("trust_anchors", (|s: &mut Settings| s.trust_anchors = None) as fn(&mut Settings)),
        ("revocation", |s| s.revocation = None),
        ("pepper", |s| s.pepper = None),
        ("domain", |s| s.domain = None),
        ("chain_id", |s| s.chain_id = None),
        ("registry", |s| s.registry = None),
    ] {
        let mut settings = production();
        clear(&mut settings);
        let error = ServeConfig::from_settings(settings).unwrap_err();
        assert!(matches!(error, ConfigError::Missing { key: k, .. } if k == key), "{error}");
        assert!(error.to_string().contains(&format!("`{key}`")), "{error}");
    }
}

#[test]
fn dev_only_settings_are_refused_outside_dev() {
    let settings = Settings { revocation: Some("none".into()), ..production() };
    let error = ServeConfig::from_settings(settings.clone()).unwrap_err();
    assert!(error.to_string().contains("dev mode"), "{error}");
    let config = ServeConfig::from_settings(Settings { dev: Some(true), ..settings }).unwrap();
    assert_eq!(config.service.card.revocation, RevocationConfig::None);

    let dev = Settings {
        dev: Some(true),
        trust_anchors: Some("roots".into()),
        revocation: Some("none".into()),
        ..Settings::default()
    };
    let config = ServeConfig::from_settings(dev).unwrap();
    assert!(config.service.pepper.is_none());
    assert_eq!(config.service.chain.chain_id, 31337);
}

#[test]
fn invalid_values_are_named_without_echoing_secrets() {
    let settings = Settings { pepper: Some(Secret::new("abcd")), ..production() };
    let error = ServeConfig::from_settings(settings).unwrap_err().to_string();
    assert!(error.contains("`pepper`") && !error.contains("abcd"), "{error}");
    let settings = Settings { revocation: Some("ldap://x".into()), ..production() };
    assert!(ServeConfig::from_settings(settings).unwrap_err().to_string().contains("`revocation`"));
    let settings = Settings { challenge_lifetime_secs: Some(5), ..production() };
    assert!(
        ServeConfig::from_settings(settings)
            .unwrap_err()
            .to_string()
            .contains("`challenge_lifetime_secs`")
    );
    assert_eq!(format!("{:?}", Secret::new("s3cret")), "<redacted>");
}

#[test]
fn access_settings_resolve_and_name_the_bad_one() {
    let digest = "ab".repeat(32);
    let settings = Settings {
        admin_tokens: Some(vec![format!("ops:{digest}")]),
        api_keys: Some(vec![format!("shop:{digest}:1200/200"), format!("app:{digest}")]),
        rate_limit: Some("60".into()),
        trusted_proxies: Some(vec!["10.0.0.1".parse().unwrap()]),
        ..production()
    };
    let config = ServeConfig::from_settings(settings).unwrap();
    let auth = &config.service.access.auth;
    assert_eq!(auth.admin_tokens.len(), 1);
    assert_eq!(auth.admin_tokens[0].id, "ops");
    assert_eq!(auth.api_keys[0].rate, Some(honnin_api::Rate { per_minute: 1200, burst: 200 }));
    assert_eq!(auth.api_keys[1].rate, None);
    let limits = &config.service.access.rate_limits;
    assert!(limits.enabled);
    assert_eq!(limits.anonymous, honnin_api::Rate { per_minute: 60, burst: 10 });
    assert_eq!(limits.trusted_proxies.len(), 1);

    let off = Settings { rate_limit: Some("off".into()), ..production() };
    assert!(!ServeConfig::from_settings(off).unwrap().service.access.rate_limits.enabled);

    for (settings, key) in [
        // A token where its digest belongs: refused, and never echoed.
        (
            Settings { admin_tokens: Some(vec!["ops:s3cret-token".into()]), ..production() },
            "admin_tokens",
        ),
        (
            Settings { admin_tokens: Some(vec![format!("bad id:{digest}")]), ..production() },
            "admin_tokens",
        ),
        (
            Settings {
                api_keys: Some(vec![format!("a:{digest}"), format!("a:{digest}")]),
                ..production()
            },
            "api_keys",
        ),
        (Settings { api_keys: Some(vec![format!("a:{digest}:0/1")]), ..production() }, "api_keys"),
        (Settings { rate_limit: Some("fast".into()), ..production() }, "rate_limit"),
        (
            Settings { api_key_rate_limit: Some("10/0".into()), ..production() },
            "api_key_rate_limit",
        ),
        (
            Settings {
                renewal_links: Some("http://operator.example/links".into()),
                ..production()
            },
            "renewal_links",
        ),
        (Settings { revocation_sync_secs: Some(0), ..production() }, "revocation_sync_secs"),
    ] {
        let error = ServeConfig::from_settings(settings).unwrap_err().to_string();
        assert!(error.contains(&format!("`{key}`")), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }
}

#[test]
fn writer_settings_resolve_and_refuse_zero() {
    let config = ServeConfig::from_settings(production()).unwrap();
    assert!(
        config.service.chain.writer.max_batch.is_none()
            && config.service.chain.writer.linger.is_none()
    );
    let settings = Settings {
        writer_batch_size: Some(10),
        writer_linger_ms: Some(5),
        writer_confirmations: Some(3),
        ..production()
    };
    let writer = ServeConfig::from_settings(settings).unwrap().service.chain.writer;
    assert_eq!(writer.max_batch, Some(10));
    assert_eq!(writer.linger, Some(Duration::from_millis(5)));
    assert_eq!(writer.confirmations, Some(3));
    for (settings, key) in [
        (Settings { writer_batch_size: Some(0), ..production() }, "writer_batch_size"),
        (Settings { writer_confirmations: Some(0), ..production() }, "writer_confirmations"),
    ] {
        let error = ServeConfig::from_settings(settings).unwrap_err().to_string();
        assert!(error.contains(&format!("`{key}`")), "{error}");
    }
}

#[test]
fn lifecycle_settings_default_and_resolve() {
    let config = ServeConfig::from_settings(production()).unwrap();
    assert_eq!(config.service.jobs.sync_interval, Duration::from_secs(900));
    assert_eq!(config.service.jobs.recheck_interval, Duration::from_secs(86_400));
    assert!(config.service.jobs.renewal_links.is_none());
    let settings = Settings {
        renewal_links: Some("https://operator.example/links.jsonl".into()),
        revocation_sync_secs: Some(60),
        ..production()
    };
    let config = ServeConfig::from_settings(settings).unwrap();
    assert!(matches!(
        config.service.jobs.renewal_links,
        Some(honnin_lifecycle::LinkOrigin::Url(_))
    ));
    assert_eq!(config.service.jobs.sync_interval, Duration::from_secs(60));

    // The sync needs a real pepper even in dev mode: a throwaway one matches nothing.
    let dev = Settings { dev: Some(true), pepper: None, ..production() };
    let error = SyncConfig::from_settings(&dev).unwrap_err().to_string();
    assert!(error.contains("missing setting `pepper`"), "{error}");
    assert!(SyncConfig::from_settings(&production()).is_ok());
}

#[test]
fn flags_and_environment_win_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("honnin.toml");
    std::fs::write(
        &path,
        "listen = \"0.0.0.0:9000\"\ndomain = \"file.example\"\nat_limit = \"rotate\"\nwallets_per_person = 2\n",
    )
    .unwrap();
    let given = Settings { domain: Some("flag.example".into()), ..production() };
    let merged = given.with_file(Some(&path)).unwrap();
    let config = ServeConfig::from_settings(merged).unwrap();
    assert_eq!(config.service.http.listen, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(config.service.challenges.domain.as_str(), "flag.example");
    assert_eq!(config.service.policy.at_limit, AtLimit::Rotate);
    assert_eq!(config.service.policy.max_active_wallets.get(), 2);

    std::fs::write(&path, "no_such_setting = 1\n").unwrap();
    let error = Settings::default().with_file(Some(&path)).unwrap_err().to_string();
    assert!(error.contains("no_such_setting"), "{error}");
}

#[test]
fn http_settings_default_resolve_and_refuse_zero() {
    let http = ServeConfig::from_settings(production()).unwrap().service.http;
    assert_eq!(http, honnin_service::HttpConfig::default());
    let settings = Settings {
        header_read_timeout_secs: Some(3),
        keep_alive_timeout_secs: Some(7),
        max_connections: Some(50),
        ..production()
    };
    let http = ServeConfig::from_settings(settings).unwrap().service.http;
    assert_eq!(http.header_read_timeout, Duration::from_secs(3));
    assert_eq!(http.keep_alive_timeout, Duration::from_secs(7));
    assert_eq!(http.max_connections, 50);
    for (settings, key) in [
        (
            Settings { header_read_timeout_secs: Some(0), ..production() },
            "header_read_timeout_secs",
        ),
        (Settings { keep_alive_timeout_secs: Some(0), ..production() }, "keep_alive_timeout_secs"),
        (Settings { max_connections: Some(0), ..production() }, "max_connections"),
    ] {
        let error = ServeConfig::from_settings(settings).unwrap_err().to_string();
        assert!(error.contains(&format!("`{key}`")), "{error}");
    }
}

/// The `--help` lines name the defaults the resolution applies.
#[test]
fn help_names_the_defaults_the_code_uses() {
    use clap::CommandFactory as _;

    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        settings: Settings,
    }
    let command = Wrapper::command();
    let help = |id: &str| {
        command
            .get_arguments()
            .find(|arg| arg.get_id() == id)
            .and_then(|arg| arg.get_help())
            .map(ToString::to_string)
            .unwrap_or_else(|| panic!("no help for {id}"))
    };
    let config = ServeConfig::from_settings(production()).unwrap().service;
    for (id, default) in [
        ("listen", config.http.listen.to_string()),
        ("header_read_timeout_secs", config.http.header_read_timeout.as_secs().to_string()),
        ("keep_alive_timeout_secs", config.http.keep_alive_timeout.as_secs().to_string()),
        ("max_connections", config.http.max_connections.to_string()),
        ("shutdown_timeout_secs", config.http.shutdown_timeout.as_secs().to_string()),
        ("request_timeout_secs", config.limits.request_timeout.as_secs().to_string()),
        ("body_limit_bytes", config.limits.body_bytes.to_string()),
        ("database_url", config.database.url.expose().to_owned()),
        ("revocation_cache_secs", config.card.revocation_cache.as_secs().to_string()),
        ("revocation_sync_secs", config.jobs.sync_interval.as_secs().to_string()),
        ("revocation_recheck_secs", config.jobs.recheck_interval.as_secs().to_string()),
        ("challenge_lifetime_secs", config.challenges.lifetime().whole_seconds().to_string()),
        ("attestation_max_age_days", config.policy.max_age().whole_days().to_string()),
        ("log", DEFAULT_LOG_FILTER.to_owned()),
    ] {
        let help = help(id);
        assert!(help.ends_with(&format!("[default: {default}]")), "{id}: {help}");
    }
}

#[test]
fn signing_roots_for_age_claims_come_with_their_revocation_source() {
    let config = ServeConfig::from_settings(production()).unwrap();
    assert!(config.service.card.signing.is_none(), "not offered unless configured");
    let settings = Settings {
        signing_trust_anchors: Some("/etc/honnin/sign-roots".into()),
        signing_revocation: Some("crl:/var/lib/honnin/sign.crl".into()),
        ..production()
    };
    let signing =
        ServeConfig::from_settings(settings.clone()).unwrap().service.card.signing.unwrap();
    assert_eq!(signing.trust_anchors, PathBuf::from("/etc/honnin/sign-roots"));
    assert_eq!(signing.revocation, RevocationConfig::Crl(vec!["/var/lib/honnin/sign.crl".into()]));
    for half in [
        Settings { signing_revocation: None, ..settings.clone() },
        Settings { signing_trust_anchors: None, ..settings.clone() },
    ] {
        let error = ServeConfig::from_settings(half).unwrap_err();
        assert!(error.to_string().contains("signing_"), "{error}");
    }
    let none = Settings { signing_revocation: Some("none".into()), ..settings };
    let error = ServeConfig::from_settings(none).unwrap_err();
    assert!(error.to_string().contains("signing_revocation"), "{error}");
}

#[test]
fn webhooks_resolve_from_the_file_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("honnin.toml");
    std::fs::write(
        &path,
        r#"
[webhooks]
allow_private_addresses = true
timeout_secs = 3
retry_limit = 4
retention_days = 7

[[webhooks.endpoints]]
name = "drop"
url = "https://drop.example/hooks"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
events = ["attestation.revoked", "attestation.expired"]

[[webhooks.endpoints]]
name = "all"
url = "https://all.example/hooks"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"#,
    )
    .unwrap();
    let settings = production().with_file(Some(&path)).unwrap();
    let webhooks = ServeConfig::from_settings(settings).unwrap().service.webhooks;
    assert!(webhooks.allow_private_addresses);
    assert_eq!(webhooks.timeout, Duration::from_secs(3));
    assert_eq!(webhooks.connect_timeout, Duration::from_secs(3));
    assert_eq!(webhooks.retry_limit, 4);
    assert_eq!(webhooks.retention, Duration::from_secs(7 * 86_400));
    assert_eq!(webhooks.endpoints.len(), 2);
    assert_eq!(webhooks.endpoints[0].name, "drop");
    assert_eq!(webhooks.endpoints[0].events.bits(), 2 | 4);
    assert_eq!(webhooks.endpoints[1].events, honnin_core::webhook::EventSet::ALL);
    // The defaults: private addresses refused.
    let defaults = ServeConfig::from_settings(production()).unwrap().service.webhooks;
    assert!(!defaults.allow_private_addresses);
    assert_eq!(defaults.retry_limit, 10);
    assert_eq!(defaults.retention, Duration::from_secs(30 * 86_400));

    for (bad, key) in [
        ("[webhooks]\nretry_limit = 0\n", "webhooks.retry_limit"),
        ("[webhooks]\nretention_days = 0\n", "webhooks.retention_days"),
        ("[webhooks]\ntimeout_secs = 0\n", "webhooks.timeout_secs"),
        (
            "[[webhooks.endpoints]]\nname = \"x\"\nurl = \"https://x.example/\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"attestation.pending\"]\n",
            "webhooks.endpoints",
        ),
    ] {
        std::fs::write(&path, bad).unwrap();
        let error =
            ServeConfig::from_settings(production().with_file(Some(&path)).unwrap()).unwrap_err();
        assert!(matches!(&error, ConfigError::Invalid { key: k, .. } if *k == key), "{error}");
    }
}

#[test]
fn page_keys_resolve_from_the_file_table_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("honnin.toml");
    std::fs::write(
        &path,
        "[page]\nbridge_url = \"http://127.0.0.1:48621\"\nexplorer_tx_url = \"https://explorer.example/tx/{tx}\"\n",
    )
    .unwrap();
    let settings = production().with_file(Some(&path)).unwrap();
    let page = ServeConfig::from_settings(settings).unwrap().service.page;
    assert_eq!(page.bridge_url.as_deref(), Some("http://127.0.0.1:48621"));
    assert_eq!(page.explorer_tx_url.as_deref(), Some("https://explorer.example/tx/{tx}"));
    // The defaults: the bridge's default URL, no explorer.
    let defaults = ServeConfig::from_settings(production()).unwrap().service.page;
    assert_eq!(defaults, honnin_web::PageConfig::default());
    let off = super::page::PageSettings { bridge_url: Some("none".into()), explorer_tx_url: None };
    assert_eq!(super::page_config(&off).unwrap().bridge_url, None);
    for (bridge_url, explorer_tx_url, key) in [
        (Some("ftp://x"), None, "page.bridge_url"),
        (None, Some("https://explorer.example/tx/"), "page.explorer_tx_url"),
        (None, Some("javascript:{tx}"), "page.explorer_tx_url"),
    ] {
        let s = super::page::PageSettings {
            bridge_url: bridge_url.map(str::to_owned),
            explorer_tx_url: explorer_tx_url.map(str::to_owned),
        };
        let error = super::page_config(&s).unwrap_err();
        assert!(error.to_string().contains(key), "{error}");
    }
}
