//! A client of one service instance over real HTTP.

use std::time::{Duration, Instant};

use alloy::primitives::Address;
use anyhow::{Result, bail, ensure};
use honnin_api::{AttestationAccepted, AttestationRequest, AttestationView, ChallengeResponse};
use serde_json::Value;

use crate::Person;

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The content type.
    pub content_type: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Reply {
    /// Asserts an RFC 9457 problem with `status` and `code`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["type"], format!("https://honnin.dev/problems/{code}"));
    }
}

/// A client of one API instance over real HTTP.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client for the instance at `base` (`http://host:port`).
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        Self { http, base: base.trim_end_matches('/').to_owned() }
    }

    async fn reply(response: reqwest::Response) -> Result<Reply> {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply { status, content_type, body })
    }

    /// POSTs `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &impl serde::Serialize) -> Result<Reply> {
        self.post_raw(path, serde_json::to_vec(body)?).await
    }

    /// POSTs raw bytes as JSON to `path`.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Result<Reply> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        Self::reply(response).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Result<Reply> {
        Self::reply(self.http.get(format!("{}{path}", self.base)).send().await?).await
    }

    /// `POST /v1/challenges` for `wallet`; fails unless 201.
    pub async fn challenge(&self, wallet: Address) -> Result<ChallengeResponse> {
        let reply = self
            .post("/v1/challenges", &serde_json::json!({ "wallet": wallet.to_checksum(None) }))
            .await?;
        ensure!(reply.status == 201, "challenge: {} {}", reply.status, reply.body);
        Ok(serde_json::from_value(reply.body)?)
    }

    /// `POST /v1/attestations`.
    pub async fn submit(&self, request: &AttestationRequest) -> Result<Reply> {
        self.post("/v1/attestations", request).await
    }

    /// `POST /v1/attestations`; fails unless 202.
    pub async fn attest(&self, request: &AttestationRequest) -> Result<AttestationAccepted> {
        let reply = self.submit(request).await?;
        ensure!(reply.status == 202, "attest: {} {}", reply.status, reply.body);
        Ok(serde_json::from_value(reply.body)?)
    }

    /// `GET /v1/attestations/{wallet}`.
    pub async fn status(&self, wallet: Address) -> Result<Reply> {
        self.get(&format!("/v1/attestations/{}", wallet.to_checksum(None))).await
    }

    /// `GET /v1/attestations/{wallet}`, parsed; fails unless 200.
    pub async fn view(&self, wallet: Address) -> Result<AttestationView> {
        let reply = self.status(wallet).await?;
        ensure!(reply.status == 200, "status: {} {}", reply.status, reply.body);
        Ok(serde_json::from_value(reply.body)?)
    }

    /// Polls the wallet's status every 25 ms until it is `want` (or fails after `timeout`).
    pub async fn wait_for(
        &self,
        wallet: Address,
        want: &str,
        timeout: Duration,
    ) -> Result<AttestationView> {
        let deadline = Instant::now() + timeout;
        loop {
            let view = self.view(wallet).await?;
            if view.status.as_str() == want {
                return Ok(view);
            }
            if Instant::now() >= deadline {
                bail!("{wallet} is still {} after {timeout:?}", view.status.as_str());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// One whole flow for `person`: challenge, sign (card and wallet, off the async workers),
    /// submit; returns the 202 answer.
    pub async fn flow(&self, person: &Person) -> Result<AttestationAccepted> {
        let challenge = self.challenge(person.address()).await?;
        let person = person.clone();
        let request = tokio::task::spawn_blocking(move || person.request(&challenge)).await?;
        self.attest(&request).await
    }
}
