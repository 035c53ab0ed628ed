//! `honnin deploy`: deploys `KycRegistry`, grants its roles and prints the address.
//!
//! The deployer key comes from `--key` or, better (command lines are visible to other users),
//! from `HONNIN_DEPLOYER_KEY`. Output: the registry address on one line, or with `--json` one
//! object `{registry, chain_id, block_number, tx_hash, deployer, admin, attester, revoker}`.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use honnin_chain::{DeployOptions, deploy_http, writer::AttesterKey};

/// Arguments of `honnin deploy`.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "HONNIN_RPC_URL")]
    rpc_url: String,
    /// The deployer's private key (hex). It pays for the deployment and, unless --admin names
    /// another account, stays the registry's admin.
    #[arg(long, env = "HONNIN_DEPLOYER_KEY", hide_env_values = true)]
    key: String,
    /// The admin (DEFAULT_ADMIN_ROLE: grants roles, pauses). Default: the deployer; another
    /// account receives the role and the deployer renounces it.
    #[arg(long)]
    admin: Option<honnin_core::Address>,
    /// The account the chain writer signs with (ATTESTER_ROLE). Default: the deployer.
    #[arg(long)]
    attester: Option<honnin_core::Address>,
    /// The account allowed to revoke (REVOKER_ROLE). Default: the attester.
    #[arg(long)]
    revoker: Option<honnin_core::Address>,
    /// Poll for receipts instead of eth_sendRawTransactionSync (nodes without EIP-7966).
    #[arg(long)]
    poll: bool,
    /// Print a JSON object instead of the bare address.
    #[arg(long)]
    json: bool,
}

/// Runs `honnin deploy`.
pub(crate) fn run(args: DeployArgs) -> ExitCode {
    match deploy(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => crate::runtime::fail(&format!("{e:#}")),
    }
}

fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let key: AttesterKey = args.key.parse().context("--key / HONNIN_DEPLOYER_KEY")?;
    let options = DeployOptions {
        admin: args.admin,
        attester: args.attester,
        revoker: args.revoker,
        poll: args.poll,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let deployed = runtime
        .block_on(deploy_http(&args.rpc_url, &key, &options))
        .context("deploying the registry")?;
    if args.json {
        println!("{}", serde_json::to_string(&deployed)?);
    } else {
        println!("{}", deployed.registry);
    }
    Ok(())
}
