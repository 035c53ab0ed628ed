//! The flows against the API: challenge, attest, revoke, erase, following the attestation to
//! the chain's answer.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::*;

/// The honnin API over HTTP, blocking (one request at a time; the card is the slow part).
pub(super) struct Api {
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) http: reqwest::Client,
    pub(super) base: String,
}

impl Api {
    pub(super) fn new(base: &str) -> Outcome<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Service(e.into()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Failure::Service(e.into()))?;
        Ok(Self { runtime, http, base: base.trim_end_matches('/').to_owned() })
    }

    pub(super) fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Outcome<T> {
        self.runtime
            .block_on(async {
                let response =
                    request.send().await.with_context(|| format!("{what}: no answer"))?;
                let status = response.status();
                let body: Value =
                    response.json().await.with_context(|| format!("{what}: not JSON"))?;
                if !status.is_success() {
                    match serde_json::from_value::<Problem>(body) {
                        Ok(problem) => bail!(
                            "{what}: the service answered {status} {}: {}",
                            problem.code,
                            problem.detail
                        ),
                        Err(_) => bail!("{what}: the service answered {status}"),
                    }
                }
                serde_json::from_value(body).with_context(|| format!("{what}: unexpected answer"))
            })
            .map_err(Failure::Service)
    }

    /// The polling interval of `follow` and `chain_answer`.
    pub(super) fn pause(&self) {
        self.runtime.block_on(async { tokio::time::sleep(Duration::from_millis(250)).await });
    }

    pub(super) fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Outcome<T> {
        let url = format!("{}{path}", self.base);
        self.send(self.http.post(&url).json(body), &format!("POST {path}"))
    }

    pub(super) fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Outcome<T> {
        let url = format!("{}{path}", self.base);
        self.send(self.http.get(&url), &format!("GET {path}"))
    }

    pub(super) fn challenge(
        &self,
        wallet: Address,
        purpose: Purpose,
        audience: Option<String>,
        scope: Option<&ScopeName>,
    ) -> Outcome<ChallengeResponse> {
        self.post(
            "/v1/challenges",
            &ChallengeRequest {
                wallet: wallet.to_checksum(None),
                audience,
                purpose: Some(purpose.as_str().to_owned()),
                scope: scope.map(|name| name.as_str().to_owned()),
            },
        )
    }
}

/// A fresh challenge, or the one named by `--challenge` and `--message`.
pub(super) fn challenge_for(
    api: &Api,
    args: &ApiArgs,
    scope: Option<&ScopeName>,
    purpose: Purpose,
    ui: &Ui,
) -> Outcome<(String, String)> {
    let (id, message) = match (&args.challenge, &args.message) {
        (Some(id), Some(path)) => {
            let bytes = read_file(path, "message")?;
            let text =
                String::from_utf8(bytes).map_err(|_| usage(anyhow!("the message is not UTF-8")))?;
            (id.clone(), text)
        }
        _ => {
            let within = scope.map_or_else(String::new, |name| format!(" in scope {name}"));
            ui.say(format!(
                "Asking {} for a challenge ({}{within}) / チャレンジを取得",
                api.base,
                purpose.as_str()
            ));
            let challenge = api.challenge(args.wallet, purpose, args.audience.clone(), scope)?;
            ui.say(format!("challenge {}, expires {}", challenge.id, challenge.expires_at));
            (challenge.id, challenge.message)
        }
    };
    ui.show_message(&message);
    Ok((id, message))
}

/// The wallet's EIP-191 signature of the message shown: flag, file, or pasted.
pub(super) fn wallet_signature(
    args: &WalletSignatureArgs,
    message: &str,
    ui: &mut Ui,
) -> Outcome<String> {
    if let Some(out) = &args.message_out {
        std::fs::write(out, message)
            .with_context(|| format!("cannot write {}", out.display()))
            .map_err(usage)?;
        ui.say(format!("message written to {}", out.display()));
    }
    let text = match (&args.wallet_signature, &args.wallet_signature_file) {
        (Some(signature), _) => signature.clone(),
        (None, Some(path)) => String::from_utf8(read_file(path, "wallet signature")?)
            .map_err(|_| usage(anyhow!("the wallet signature file is not text")))?,
        (None, None) => {
            ui.say(
                "Sign the message above with your wallet (EIP-191 personal_sign, e.g. `cast wallet sign`) \
                 and paste the signature (0x…) / ウォレットで上のメッセージに署名し、署名を貼り付けてください:",
            );
            ui.input.line()?.trim().to_owned()
        }
    };
    let text = text.trim().to_owned();
    let hex_ok = text.strip_prefix("0x").is_some_and(|h| {
        !h.is_empty() && h.len() % 2 == 0 && h.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if !hex_ok {
        return Err(usage(anyhow!("the wallet signature must be 0x and hex digits")));
    }
    Ok(text)
}

/// Follows the wallet's attestation (globally, or in `scope`) until `want` (a progress line on
/// stderr).
pub(super) fn follow(
    api: &Api,
    wallet: Address,
    scope: Option<&ScopeName>,
    want: &str,
    chain: &ChainArgs,
) -> Outcome<AttestationView> {
    let started = Instant::now();
    let mut path = format!("/v1/attestations/{}", wallet.to_checksum(None));
    if let Some(name) = scope {
        path.push_str(&format!("?scope={name}"));
    }
    loop {
        let view: AttestationView = api.get(&path)?;
        let status = view.status.as_str();
        eprint!("\r  {status} after {:.1} s / 状態 {status}   ", started.elapsed().as_secs_f64());
        if status == want {
            eprintln!();
            return Ok(view);
        }
        if status != "pending" {
            eprintln!();
            return Err(Failure::Service(anyhow!("the attestation is {status}, not {want}")));
        }
        if started.elapsed() > Duration::from_secs(chain.timeout) {
            eprintln!();
            return Err(Failure::Service(anyhow!("still {status} after {} s", chain.timeout)));
        }
        api.pause();
    }
}

/// With `--rpc-url`: asks the registry's `isVerified(wallet)` (or `isVerified(wallet, scope)`)
/// until it answers `want` (the writer sends queued transactions in batches), and returns the
/// last answer.
pub(super) fn chain_answer(
    api: &Api,
    wallet: Address,
    scope: Option<&ScopeName>,
    want: bool,
    chain: &ChainArgs,
    ui: &Ui,
) -> Outcome<Option<bool>> {
    let (Some(url), Some(registry)) = (&chain.rpc_url, chain.registry) else { return Ok(None) };
    let url: reqwest::Url = url.parse().map_err(|e| usage(anyhow!("--rpc-url: {e}")))?;
    let provider = ProviderBuilder::new().connect_http(url);
    let contract = honnin_chain::bindings::KycRegistry::new(registry, &provider);
    let started = Instant::now();
    let verified = loop {
        let verified = api
            .runtime
            .block_on(async {
                match scope {
                    None => contract.isVerified_1(wallet).call().await,
                    Some(name) => contract.isVerified_2(wallet, name.id().into()).call().await,
                }
            })
            .map_err(|e| Failure::Service(anyhow!("isVerified: {e}")))?;
        if verified == want || started.elapsed() > Duration::from_secs(chain.timeout) {
            break verified;
        }
        api.pause();
    };
    let scope = scope.map_or_else(String::new, |name| format!(", {} ({name})", name.id()));
    ui.say(format!("on chain: KycRegistry({registry}).isVerified({wallet}{scope}) = {verified}"));
    Ok(Some(verified))
}

pub(super) fn challenge_cmd(args: &ChallengeArgs, ui: &Ui) -> Outcome {
    let api = Api::new(&args.api)?;
    let scope = args.scope.scope.as_ref();
    let challenge = api.challenge(args.wallet, args.purpose, args.audience.clone(), scope)?;
    if let Some(out) = &args.message_out {
        std::fs::write(out, &challenge.message)
            .with_context(|| format!("cannot write {}", out.display()))
            .map_err(usage)?;
    }
    ui.result(format!("challenge {} (expires {})", challenge.id, challenge.expires_at));
    if !ui.json {
        ui.show_message(&challenge.message);
    }
    Ok(
        json!({ "ok": true, "id": challenge.id, "message": challenge.message, "expires_at": challenge.expires_at, "scope_id": challenge.scope_id }),
    )
}

pub(super) fn attest(args: &AttestArgs, ui: &mut Ui) -> Outcome {
    let api = Api::new(&args.api.api)?;
    let scope = args.scope.scope.as_ref();
    let (challenge_id, message) = challenge_for(&api, &args.api, scope, Purpose::Attest, ui)?;
    let mut card = open(&args.reader, ui)?;
    let certificate = card.certificate(Key::Authentication)?;
    let card_sig =
        card_signature(&mut card, Key::Authentication, &args.pin, message.as_bytes(), ui)?;
    // Age claims: the signing certificate and the signing key's signature of the same message.
    let signing = if args.age {
        let certificate = card.certificate(Key::Signing)?;
        ui.say(SIGNING_CERTIFICATE_NOTICE);
        let signature = card_signature(&mut card, Key::Signing, &args.pin, message.as_bytes(), ui)?;
        Some((certificate, signature))
    } else {
        None
    };
    close(card)?;
    ui.say("The card signed the message / カードで署名しました");
    let wallet_sig = wallet_signature(&args.wallet_signature, &message, ui)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let accepted: AttestationAccepted = api.post(
        "/v1/attestations",
        &AttestationRequest {
            challenge_id,
            certificate: b64.encode(&certificate),
            card_signature: b64.encode(&card_sig),
            wallet_signature: wallet_sig,
            signing_certificate: signing.as_ref().map(|(c, _)| b64.encode(c)),
            signing_signature: signing.as_ref().map(|(_, s)| b64.encode(s)),
        },
    )?;
    drop(signing);
    ui.say(format!("accepted: attestation {} ({})", accepted.attestation_id, accepted.status));
    for refused in &accepted.claims_refused {
        ui.say(format!(
            "claim {} refused ({}) / {} は認められませんでした ({})",
            refused.claim, refused.code, refused.claim, refused.code
        ));
    }
    let view = follow(&api, args.api.wallet, scope, "active", &args.chain)?;
    let verified = chain_answer(&api, args.api.wallet, scope, true, &args.chain, ui)?;
    ui.result(format!(
        "active: attestation {} for {} (claims {}) on chain in tx {} (block {}), expires {}",
        view.attestation_id,
        view.wallet,
        view.claims,
        view.tx_hash.as_deref().unwrap_or("?"),
        view.block_number.map_or_else(|| "?".into(), |b| b.to_string()),
        view.expires_at
    ));
    Ok(json!({
        "ok": true,
        "attestation_id": view.attestation_id,
        "wallet": view.wallet,
        "status": view.status.as_str(),
        "tx_hash": view.tx_hash,
        "block_number": view.block_number,
        "expires_at": view.expires_at,
        "claims": view.claims,
        "claims_refused": accepted.claims_refused,
        "scope": scope.map(ScopeName::as_str),
        "scope_id": view.scope,
        "is_verified": verified,
    }))
}

pub(super) fn revoke(args: &RevokeArgs, ui: &mut Ui) -> Outcome {
    let api = Api::new(&args.api.api)?;
    let scope = args.scope.scope.as_ref();
    let (challenge_id, message) = challenge_for(&api, &args.api, scope, Purpose::Revoke, ui)?;
    let wallet_sig = wallet_signature(&args.wallet_signature, &message, ui)?;
    let revoked: RevocationAccepted = api.post(
        "/v1/revocations",
        &RevocationRequest { challenge_id, wallet_signature: wallet_sig },
    )?;
    let view = follow(&api, args.api.wallet, scope, "revoked", &args.chain)?;
    let verified = chain_answer(&api, args.api.wallet, scope, false, &args.chain, ui)?;
    ui.result(format!(
        "revoked: attestation {} for {} ({}); the on-chain revoke is queued",
        revoked.attestation_id,
        revoked.wallet,
        revoked.reason.as_str()
    ));
    Ok(json!({
        "ok": true,
        "attestation_id": view.attestation_id,
        "wallet": view.wallet,
        "status": view.status.as_str(),
        "reason": revoked.reason.as_str(),
        "scope": scope.map(ScopeName::as_str),
        "scope_id": view.scope,
        "is_verified": verified,
    }))
}

pub(super) fn erase(args: &EraseArgs, ui: &mut Ui) -> Outcome {
    let api = Api::new(&args.api.api)?;
    // Erasure reaches every scope: its challenge names none.
    let (challenge_id, message) = challenge_for(&api, &args.api, None, Purpose::Erase, ui)?;
    let mut card = open(&args.reader, ui)?;
    let certificate = card.certificate(Key::Authentication)?;
    let card_sig =
        card_signature(&mut card, Key::Authentication, &args.pin, message.as_bytes(), ui)?;
    close(card)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let erased: ErasureAccepted = api.post(
        "/v1/erasures",
        &ErasureRequest {
            challenge_id,
            certificate: b64.encode(&certificate),
            card_signature: b64.encode(&card_sig),
        },
    )?;
    ui.result(format!(
        "erased: honnin forgot the card; {} attestation(s) revoked (on-chain revokes queued)",
        erased.revoked
    ));
    let verified = chain_answer(&api, args.api.wallet, None, false, &args.chain, ui)?;
    Ok(
        json!({ "ok": true, "erased": erased.erased, "revoked": erased.revoked, "is_verified": verified }),
    )
}
